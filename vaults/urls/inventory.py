from django.urls import path

from vaults.views import inventory

app_name = "vaults"
urlpatterns = [
    path("", inventory.vault_list, name="list"),
]
