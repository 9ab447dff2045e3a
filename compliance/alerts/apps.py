from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "compliance.alerts"
    label = "alerts"
    verbose_name = "Alerts and tickets"
