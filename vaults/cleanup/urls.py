from django.urls import path

from vaults.cleanup import propose_views, rotation_views, views

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
    path("<int:pk>/progress/", views.plan_progress, name="plan_progress"),
    path("actions/<int:pk>/edit/", views.action_edit, name="action_edit"),
    path("actions/<int:pk>/remove/", views.action_remove, name="action_remove"),
    path("actions/<int:pk>/approve/", views.action_approve, name="action_approve"),
    path("actions/<int:pk>/reject/", views.action_reject, name="action_reject"),
    path("actions/<int:pk>/manual-done/", views.manual_done, name="manual_done"),
    path("actions/<int:pk>/follow-up-done/", views.follow_up_done, name="follow_up_done"),
    # proposals from the pages where a person meets the problem (issue 19)
    *(
        path(
            f"items/<int:pk>/propose/{change}/", propose_views.item_change, {"change": change}, name=f"propose_{change}"
        )
        for change in propose_views.ITEM_CHANGES
    ),
    path("vaults/<int:pk>/propose/revoke/", propose_views.vault_revoke, name="propose_revoke"),
    path("propose/findings/", propose_views.findings_bulk, name="propose_bulk"),
    # guided rotation (issue 19)
    path("actions/<int:pk>/checklist/", rotation_views.checklist_tick, name="checklist_tick"),
    path("rotation-policy/", rotation_views.rotation_policy, name="rotation_policy"),
]
