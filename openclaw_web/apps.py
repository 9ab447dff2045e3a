from django.apps import AppConfig


class OpenclawWebConfig(AppConfig):
    name = "openclaw_web"
    verbose_name = "OpenClaw"
