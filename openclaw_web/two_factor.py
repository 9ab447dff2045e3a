"""Two-factor enrolment, replacement, removal, recovery codes and the administrator's reset.

The rule this module keeps (issue #14): a password alone never changes a person's second factor.
1. Replacing or removing a confirmed device needs a session that has already passed two-factor
   (a code from that device, or a recovery code).
2. A first device needs a *fresh* password re-authentication: the password typed again within
   `REAUTH_MAX_AGE` in this session; having signed in is not enough.
3. A new key waits as a pending (unconfirmed) device bound to the session that began it. The
   confirmed device is deleted only when the pending one is confirmed, in one transaction, by a
   session that still passes 1 or 2 at that moment.
Every step is written to the audit log with the devices it touched (ids only, never a key).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from compliance import audit
from openclaw_web.models import RecoveryCode
from openclaw_web.security import confirmed_device, is_verified, two_factor_required

# Long enough to open an authenticator app and type a code; short enough that a session left
# open at a desk after typing the password cannot enrol a device much later.
REAUTH_MAX_AGE = timedelta(minutes=10)
REAUTH_SESSION_KEY = "two_factor_reauthenticated_at"
PENDING_SESSION_KEY = "two_factor_pending_device_id"

RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: codes are read off paper. 31 symbols ** 10 ≈ 2**49.5 per code; guessing is
# also slowed by the device's throttle, which recovery-code attempts share.
RECOVERY_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_CODE_LENGTH = 10
_RECOVERY_HMAC_SALT = "openclaw.two_factor.recovery_code"


def _person(request: HttpRequest) -> User:
    """The signed-in person: every caller sits behind `@requires`, so never anonymous."""
    return cast(User, request.user)


class TwoFactorRefused(Exception):
    """The session may not make this change; the message says what would let it."""


@dataclass(frozen=True)
class ResetOutcome:
    devices_removed: int
    recovery_codes_removed: int


# --- who may change a device -------------------------------------------------------------------


def reauthenticate(*, request: HttpRequest, password: str) -> bool:
    """Check the signed-in person's password again and remember when, in this session.

    Goes through `authenticate()` so django-axes counts and locks out wrong passwords here exactly
    like at sign-in (and the failure is audit-logged as `auth.login_failed` by its signal)."""
    user = _person(request)
    checked = authenticate(request, username=user.get_username(), password=password)
    if checked is None or checked.pk != user.pk:
        return False
    request.session[REAUTH_SESSION_KEY] = time.time()
    audit.record("auth.reauthenticated", request=request, details={"purpose": "two-factor enrolment"})
    return True


def has_fresh_reauthentication(request: HttpRequest) -> bool:
    at = request.session.get(REAUTH_SESSION_KEY)
    return isinstance(at, int | float) and 0 <= time.time() - at <= REAUTH_MAX_AGE.total_seconds()


def needs_reauthentication(request: HttpRequest) -> bool:
    """True when the next enrolment step would ask for the password (a first device, not fresh)."""
    return confirmed_device(_person(request)) is None and not has_fresh_reauthentication(request)


def _check_authority(request: HttpRequest, *, has_confirmed: bool) -> None:
    if has_confirmed:
        if not is_verified(request.user):
            raise TwoFactorRefused(
                "To change your two-factor device, first enter a code from your current device "
                "or a recovery code in this session. Your password alone is not enough."
            )
    elif not has_fresh_reauthentication(request):
        raise TwoFactorRefused("Enter your password again to set up two-factor authentication.")


def _lock_user(user: User) -> None:
    """Serialise device changes of one person, so two sessions cannot both act on 'no device yet'."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()


# --- enrolment ---------------------------------------------------------------------------------


def begin_setup(*, request: HttpRequest) -> TOTPDevice:
    """A new pending key for the signed-in person, bound to this session.

    1. Refuse unless the session may change devices (module docstring, rules 1 and 2).
    2. Drop any earlier *pending* device of the person; a confirmed one is never touched here.
    3. Create the pending device and remember its id in the session."""
    user = _person(request)
    with transaction.atomic():
        _lock_user(user)
        has_confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        _check_authority(request, has_confirmed=has_confirmed)
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    request.session[PENDING_SESSION_KEY] = device.pk
    audit.record(
        "auth.2fa_setup_begun",
        request=request,
        target_type="auth.user",
        target_id=str(user.pk),
        details={"pending_device_id": device.pk, "replacing": has_confirmed},
    )
    return device


def pending_device(request: HttpRequest) -> TOTPDevice | None:
    """The pending device this session began, if it still exists (another session's never counts)."""
    pk = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(pk, int):
        return None
    return TOTPDevice.objects.filter(pk=pk, user=_person(request), confirmed=False).first()


def confirm_setup(*, request: HttpRequest, device: TOTPDevice, code: str) -> bool:
    """Confirm this session's pending device with a code from the app; it then replaces any
    confirmed device. Raises TwoFactorRefused if the session's authority has lapsed since it began."""
    user = _person(request)
    with transaction.atomic():
        _lock_user(user)
        has_confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).exists()
        _check_authority(request, has_confirmed=has_confirmed)
        replaced: list[int] = []
        matched = bool(device.verify_token(code))
        if matched:
            replaced = list(
                TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).values_list("pk", flat=True)
            )
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
            device.confirmed = True
            device.save(update_fields=["confirmed"])
    if not matched:
        audit.record("auth.2fa_confirm_failed", request=request, details={"pending_device_id": device.pk})
        return False
    request.session.pop(PENDING_SESSION_KEY, None)
    request.session.pop(REAUTH_SESSION_KEY, None)  # one re-authentication, one enrolment
    otp_login(request, device)
    audit.record(
        "auth.2fa_replaced" if replaced else "auth.2fa_enabled",
        request=request,
        target_type="auth.user",
        target_id=str(user.pk),
        details={"device_id": device.pk, "replaced_device_ids": replaced},
    )
    return True


def disable(*, request: HttpRequest, code: str) -> bool:
    """Turn two-factor off: a verified session and a current code from the device, and only when
    the policy does not require it for the person's role. Recovery codes go with the device."""
    user = _person(request)
    if two_factor_required(user):
        raise TwoFactorRefused("The policy requires two-factor authentication for your role.")
    device = confirmed_device(user)
    if device is None:
        return False
    _check_authority(request, has_confirmed=True)
    if not device.verify_token(code):
        audit.record("auth.2fa_failed", request=request, details={"purpose": "disable"})
        return False
    with transaction.atomic():
        removed = list(TOTPDevice.objects.filter(user=user).values_list("pk", flat=True))
        TOTPDevice.objects.filter(user=user).delete()
        codes_removed, _ = RecoveryCode.objects.filter(user=user).delete()
    request.session.pop(DEVICE_ID_SESSION_KEY, None)
    audit.record(
        "auth.2fa_disabled",
        request=request,
        target_type="auth.user",
        target_id=str(user.pk),
        details={"removed_device_ids": removed, "recovery_codes_removed": codes_removed},
    )
    return True


# --- verification ------------------------------------------------------------------------------


def looks_like_recovery_code(code: str) -> bool:
    return not normalise_recovery_code(code).isdigit()


def verify(*, request: HttpRequest, code: str) -> bool:
    """Pass two-factor in this session with a code from the device or an unused recovery code.

    Both kinds count against the device's throttle (django-otp: a growing wait after each wrong
    code), so recovery codes cannot be guessed faster than app codes."""
    device = confirmed_device(_person(request))
    if device is None:
        audit.record("auth.2fa_failed", request=request)
        return False
    if looks_like_recovery_code(code):
        return _verify_with_recovery_code(request=request, device=device, code=code)
    if not device.verify_token(code):
        audit.record("auth.2fa_failed", request=request)
        return False
    otp_login(request, device)
    audit.record("auth.2fa_verified", request=request)
    return True


def _verify_with_recovery_code(*, request: HttpRequest, device: TOTPDevice, code: str) -> bool:
    allowed, _ = device.verify_is_allowed()
    if not allowed:
        audit.record("auth.2fa_failed", request=request, details={"method": "recovery code", "throttled": True})
        return False
    # The conditional update is the single-use guarantee: two requests racing with one code
    # cannot both change the row from unused to used.
    burned = RecoveryCode.objects.filter(
        user=_person(request), code_hash=hash_recovery_code(code), used_at__isnull=True
    ).update(used_at=timezone.now())
    if not burned:
        device.throttle_increment()
        audit.record("auth.2fa_failed", request=request, details={"method": "recovery code"})
        return False
    device.throttle_reset()
    otp_login(request, device)
    audit.record(
        "auth.2fa_recovery_code_used",
        request=request,
        target_type="auth.user",
        target_id=str(request.user.pk),
        details={"recovery_codes_left": recovery_codes_left(_person(request))},
    )
    return True


# --- recovery codes ----------------------------------------------------------------------------


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def hash_recovery_code(code: str) -> str:
    """Keyed HMAC-SHA256 (key derived from SECRET_KEY): the database alone does not reveal or let
    anyone test codes. Rotating SECRET_KEY invalidates every recovery code; people generate new ones."""
    return salted_hmac(_RECOVERY_HMAC_SALT, normalise_recovery_code(code), algorithm="sha256").hexdigest()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_CODE_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    half = RECOVERY_CODE_LENGTH // 2
    return f"{raw[:half]}-{raw[half:]}"


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def generate_recovery_codes(*, request: HttpRequest) -> list[str]:
    """A new set of recovery codes for the signed-in person, replacing every older one.

    Needs a confirmed device and a session that passed two-factor. The clear codes are returned
    for the one response that shows them; only their hashes are stored."""
    user = _person(request)
    if confirmed_device(user) is None:
        raise TwoFactorRefused("Turn on two-factor authentication before generating recovery codes.")
    _check_authority(request, has_confirmed=True)
    codes: list[str] = []
    while len(codes) < RECOVERY_CODE_COUNT:  # a repeat is astronomically unlikely, but cheap to rule out
        code = _new_recovery_code()
        if code not in codes:
            codes.append(code)
    with transaction.atomic():
        replaced, _ = RecoveryCode.objects.filter(user=user).delete()
        RecoveryCode.objects.bulk_create(RecoveryCode(user=user, code_hash=hash_recovery_code(c)) for c in codes)
    audit.record(
        "auth.2fa_recovery_codes_generated",
        request=request,
        target_type="auth.user",
        target_id=str(user.pk),
        details={"count": len(codes), "replaced": replaced},
    )
    return codes


# --- the administrator's reset -----------------------------------------------------------------


def admin_reset(*, request: HttpRequest, target: User) -> ResetOutcome:
    """Remove another person's devices and recovery codes (a lost phone); they enrol again.

    The view checks the admin role; here: never one's own (that is `disable`, with its code), and
    the admin's session must itself have passed two-factor, or a stolen admin password would
    reopen the hole this module closes one level up. The target's sessions lose their verified
    state at once: django-otp drops a session's device when the device row is gone."""
    actor = _person(request)
    if target.pk == actor.pk:
        raise TwoFactorRefused("Use your own profile to change your two-factor device.")
    if not is_verified(actor):
        raise TwoFactorRefused(
            "Turn on two-factor authentication and verify in this session before resetting someone else's."
        )
    with transaction.atomic():
        _lock_user(target)
        devices, _ = TOTPDevice.objects.filter(user=target).delete()
        codes, _ = RecoveryCode.objects.filter(user=target).delete()
    audit.record(
        "auth.2fa_admin_reset",
        request=request,
        target=target,
        target_type="auth.user",
        target_label=target.get_username(),
        details={"devices_removed": devices, "recovery_codes_removed": codes},
    )
    return ResetOutcome(devices_removed=devices, recovery_codes_removed=codes)
