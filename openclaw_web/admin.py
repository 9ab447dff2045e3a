"""The Django admin's view of two-factor devices: read-only, and never the key.

django-otp's own TOTPDevice admin shows the key on the add form and, unless
OTP_ADMIN_HIDE_SENSITIVE_DATA is set, a QR code page that enrols a copy of the person's
authenticator. It is replaced here (this app comes after django_otp in INSTALLED_APPS, so its
admin module is imported later). Deleting a device stays possible: it is the admin's form of a
two-factor reset and is audit-logged by `openclaw_web.access_audit`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

# Everything an administrator needs to recognise a device; `key` (and anything derived from it)
# is not here on purpose.
TOTP_DEVICE_FIELDS = ("user", "name", "confirmed", "created_at", "last_used_at", "throttling_failure_count")


class ReadOnlyTOTPDeviceAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    list_filter = ("confirmed",)
    search_fields = ("user__username", "user__email")
    fields = TOTP_DEVICE_FIELDS
    readonly_fields = TOTP_DEVICE_FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a key is made by the person's own enrolment, never typed in by someone else

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)
admin.site.register(TOTPDevice, ReadOnlyTOTPDeviceAdmin)
