from django.urls import path

from vaults.findings import views

app_name = "findings"
urlpatterns = [
    path("", views.finding_list, name="list"),
    path("<int:pk>/", views.finding_detail, name="detail"),
    path("accept/", views.accept_risk, name="accept"),
    path("reopen/", views.reopen, name="reopen"),
]
