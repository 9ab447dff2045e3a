from django.urls import path

from vaults.access_expiry import views

app_name = "access_expiry"
urlpatterns = [
    path("contractors/", views.contractor_report, name="report"),
    path("<int:pk>/end-date/", views.set_end_date, name="set"),
    path("end-dates/<int:pk>/clear/", views.clear_end_date, name="clear"),
]
