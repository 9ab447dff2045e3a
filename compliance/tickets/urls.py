from django.urls import path

from compliance.tickets import views

app_name = "tickets"
urlpatterns = [
    path("", views.destinations, name="settings"),
    path("<int:pk>/", views.destination_edit, name="destination"),
    path("findings.csv", views.export_findings_csv, name="export_csv"),
    path("findings/<int:pk>/create/", views.create_for_subject, {"subject": "finding"}, name="create_for_finding"),
    path("plans/<int:pk>/create/", views.create_for_subject, {"subject": "plan"}, name="create_for_plan"),
    path("offboarding/<int:pk>/create/", views.create_for_subject, {"subject": "offboarding"}, name="create_for_offboarding"),
]
