from django.urls import path

from vaults.cleanup import views

app_name = "cleanup"
urlpatterns = [path("", views.index, name="list")]
