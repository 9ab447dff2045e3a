from django.urls import path

from compliance.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="list"),
    path("generate/", views.generate_view, name="generate"),
    path("preview/", views.preview, name="preview"),
    path("artifacts/<int:pk>/", views.artifact_row, name="artifact"),
    path("artifacts/<int:pk>/download/", views.download, name="download"),
    path("schedules/", views.schedule_create, name="schedule_create"),
    path("schedules/<int:pk>/delete/", views.schedule_delete, name="schedule_delete"),
]
