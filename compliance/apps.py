from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = "Compliance"

    def ready(self) -> None:
        # Login, logout and failed-login events come from django.contrib.auth's signals; they
        # are the only signal receivers in the project because auth offers no other hook.
        from compliance import auth_events  # noqa: F401
