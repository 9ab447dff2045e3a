from django.apps import AppConfig


class BreakglassConfig(AppConfig):
    name = "vaults.breakglass"
    label = "breakglass"
    verbose_name = "Break-glass access"
