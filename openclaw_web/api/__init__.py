"""The read-only JSON API under /api/v1/ (django-ninja; the OpenAPI document is generated)."""
