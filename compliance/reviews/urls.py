from django.urls import path

from compliance.reviews import views

app_name = "reviews"
urlpatterns = [
    path("", views.index, name="list"),
    path("inbox/", views.inbox, name="inbox"),
    path("open/", views.open_review, name="open"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/remind/", views.remind, name="remind"),
    path("<int:pk>/sign-off/", views.sign_off, name="sign_off"),
    path("<int:pk>/second-approval/", views.approve_second, name="second_approval"),
    path("<int:pk>/bulk/", views.bulk, name="bulk"),
    path("entries/<int:pk>/decide/", views.decide, name="decide"),
    path("<int:pk>/evidence.pdf", views.evidence_download, {"fmt": "pdf"}, name="evidence_pdf"),
    path("<int:pk>/evidence.xlsx", views.evidence_download, {"fmt": "xlsx"}, name="evidence_xlsx"),
]
