from django.apps import AppConfig


class OpenclawWebConfig(AppConfig):
    name = "openclaw_web"
    verbose_name = "OpenClaw"

    def ready(self) -> None:
        # Changes to people, roles and credentials are audit-logged from any path (admin, shell,
        # management commands), so they are caught at the model signals.
        from openclaw_web import access_audit

        access_audit.connect()
        # Registers the deploy check that warns while mailed links cannot be absolute.
        import openclaw_web.site_url  # noqa: F401
