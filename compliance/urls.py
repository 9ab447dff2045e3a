from django.urls import path

from compliance import views

app_name = "audit"
urlpatterns = [
    path("", views.audit_log, name="list"),
    path("export.<str:fmt>", views.audit_log_export, name="export"),
]
