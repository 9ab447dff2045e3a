from django.urls import path

from vaults.views import items, people, vaults

app_name = "vaults"
urlpatterns = [
    path("", vaults.vault_list, name="list"),
    path("<int:pk>/", vaults.vault_detail, name="detail"),
    path("<int:pk>/settings/", vaults.vault_settings, name="settings"),
    path("items/<int:pk>/", items.item_detail, name="item"),
    path("people/", people.people_list, name="people"),
    path("people/<int:pk>/", people.person_detail, name="person"),
]
