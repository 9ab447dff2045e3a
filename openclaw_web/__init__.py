from openclaw_web.celery import app as celery_app

# The product version printed in reports and their manifests; pyproject.toml says the same (a test holds them equal).
__version__ = "0.1.0"
PRODUCT_NAME = "OpenClaw Vault Hygiene & Compliance"

__all__ = ("PRODUCT_NAME", "__version__", "celery_app")
