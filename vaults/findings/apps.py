from django.apps import AppConfig


class FindingsConfig(AppConfig):
    name = "vaults.findings"
    label = "findings"
    verbose_name = "Findings"
