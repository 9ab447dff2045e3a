from django.apps import AppConfig


class CleanupConfig(AppConfig):
    name = "vaults.cleanup"
    label = "cleanup"
    verbose_name = "Cleanup"
