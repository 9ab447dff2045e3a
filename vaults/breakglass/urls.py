from django.urls import path

from vaults.breakglass import views

app_name = "breakglass"
urlpatterns = [
    path("", views.event_list, name="list"),
    path("<int:pk>/", views.event_detail, name="detail"),
    path("<int:pk>/reason/", views.event_reason, name="reason"),
    path("<int:pk>/rotate/", views.event_rotate, name="rotate"),
    # The signed link e-mailed to the user: no sign-in (vaults/breakglass/reasons.py).
    path("reason/<str:token>/", views.reason_link, name="reason_link"),
]
