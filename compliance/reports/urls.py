from django.urls import path

from compliance.reports import views

app_name = "reports"
urlpatterns = [path("", views.index, name="list")]
