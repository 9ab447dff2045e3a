from django.urls import path

from vaults.findings import views

app_name = "findings"
urlpatterns = [path("", views.finding_list, name="list")]
