from django.urls import path

from vaults.offboarding import views

app_name = "offboarding"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/actions/", views.create_actions, name="create_actions"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("people/<int:person_pk>/leaving/", views.mark_leaving, name="mark_leaving"),
]
