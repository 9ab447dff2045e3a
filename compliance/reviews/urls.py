from django.urls import path

from compliance.reviews import views

app_name = "reviews"
urlpatterns = [path("", views.index, name="list")]
