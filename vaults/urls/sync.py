from django.urls import path

from vaults.views import sync

app_name = "sync"
urlpatterns = [
    path("", sync.sync_status, name="status"),
    path("accounts/<int:account_id>/sync-now/", sync.sync_now, name="sync_now"),
]
