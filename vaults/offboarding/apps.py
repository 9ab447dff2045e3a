from django.apps import AppConfig


class OffboardingConfig(AppConfig):
    name = "vaults.offboarding"
    label = "offboarding"
    verbose_name = "Leavers and offboarding cases"
