from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "compliance.tickets"
    label = "tickets"
    verbose_name = "Remediation tickets"
