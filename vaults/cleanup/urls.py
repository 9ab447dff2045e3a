from django.urls import path

from vaults.cleanup import views

app_name = "cleanup"
urlpatterns = [
    path("", views.plan_list, name="list"),
    path("propose/", views.propose, name="propose"),
    path("generate/", views.generate, name="generate"),
    path("<int:pk>/", views.plan_detail, name="plan"),
    path("<int:pk>/dry-run/", views.dry_run, name="dry_run"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/approve/", views.plan_approve, name="plan_approve"),
    path("<int:pk>/reject/", views.plan_reject, name="plan_reject"),
    path("<int:pk>/execute/", views.plan_execute, name="execute"),
    path("actions/<int:pk>/edit/", views.action_edit, name="action_edit"),
    path("actions/<int:pk>/remove/", views.action_remove, name="action_remove"),
    path("actions/<int:pk>/approve/", views.action_approve, name="action_approve"),
    path("actions/<int:pk>/reject/", views.action_reject, name="action_reject"),
    path("actions/<int:pk>/manual-done/", views.manual_done, name="manual_done"),
    path("actions/<int:pk>/follow-up-done/", views.follow_up_done, name="follow_up_done"),
]
