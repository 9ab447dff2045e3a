from django.urls import path

from vaults.views import sync

app_name = "sync"
urlpatterns = [
    path("", sync.sync_status, name="status"),
]
