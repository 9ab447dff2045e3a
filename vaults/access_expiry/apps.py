from django.apps import AppConfig


class AccessExpiryConfig(AppConfig):
    name = "vaults.access_expiry"
    label = "access_expiry"
    verbose_name = "Time-limited access"
