"""Issue #14 item 1: a password alone never replaces, removes or adds a second factor for someone who
has one; recovery codes; the administrator's reset.

The attack: sign in with a stolen password, POST /accounts/two-factor/setup/ and /confirm/ with a
key of one's own, and the owner's device is deleted and the session marked verified."""

from __future__ import annotations

import re
import time

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from compliance.models import AuditLogEntry
from openclaw_web import two_factor
from openclaw_web.models import RecoveryCode
from openclaw_web.roles import MATRIX, Capability, Role
from tests.openclaw_web.test_two_factor import PASSWORD, code_for, key_on_page, require_2fa, set_up_two_factor, sign_in

pytestmark = pytest.mark.django_db

RECOVERY_CODES_RE = r'<li>([a-z0-9]{5}-[a-z0-9]{5})</li>'


def verified_session(user, key: str, *, steps_ahead: int = 1) -> Client:
    client = sign_in(user)
    response = client.post(reverse("two_factor_verify"), {"code": code_for(key, steps_ahead=steps_ahead)})
    assert response.status_code == 302, response.content.decode()[:1000]
    return client


def generate_recovery_codes(client: Client) -> list[str]:
    response = client.post(reverse("two_factor_recovery_codes"))
    assert response.status_code == 200, response.status_code
    return re.findall(RECOVERY_CODES_RE, response.content.decode())


def is_session_verified(client: Client) -> bool:
    """With the policy on, an unverified approver is sent to the verify step from any page."""
    return client.get(reverse("cleanup:list")).status_code == 200


# --- the attack ---------------------------------------------------------------------------------


def test_a_password_only_session_cannot_replace_the_owners_device(approver):
    owner_key = set_up_two_factor(sign_in(approver))
    owner_device = TOTPDevice.objects.get(user=approver)
    require_2fa()
    attacker = sign_in(approver)  # knows the password, not the phone
    before_attack = AuditLogEntry.objects.order_by("-seq").values_list("seq", flat=True).first()

    setup = attacker.post(reverse("two_factor_setup"), {"password": PASSWORD})
    confirm = attacker.post(reverse("two_factor_confirm"), {"code": "123456"})

    assert setup.status_code == 403
    assert 'aria-label="TOTP key"' not in setup.content.decode()  # no key handed out
    assert confirm.status_code == 302 and confirm["Location"] == reverse("two_factor_setup")
    assert list(TOTPDevice.objects.filter(user=approver).values_list("pk", "confirmed", "key")) == [
        (owner_device.pk, True, owner_device.key)
    ]
    assert not is_session_verified(attacker)
    changes = AuditLogEntry.objects.filter(seq__gt=before_attack, action__in=["auth.2fa_setup_begun", "auth.2fa_replaced"])
    assert not changes.exists()
    assert verified_session(approver, owner_key)  # the owner's phone still works


def test_a_password_only_session_cannot_confirm_a_key_another_session_began(approver):
    """Even holding a pending key (here: the one the owner's verified session began), a
    password-only session cannot confirm it: the pending key is bound to the session that began it."""
    owner_key = set_up_two_factor(sign_in(approver))
    require_2fa()
    owner = verified_session(approver, owner_key)
    pending_key = key_on_page(owner.post(reverse("two_factor_setup")).content.decode())
    attacker = sign_in(approver)

    response = attacker.post(reverse("two_factor_confirm"), {"code": code_for(pending_key)})

    assert response.status_code == 302 and response["Location"] == reverse("two_factor_setup")
    assert TOTPDevice.objects.filter(user=approver, confirmed=True).count() == 1
    assert TOTPDevice.objects.filter(user=approver, confirmed=False).count() == 1
    assert not is_session_verified(attacker)


def test_a_password_only_session_cannot_turn_two_factor_off(viewer):
    key = set_up_two_factor(sign_in(viewer))
    attacker = sign_in(viewer)

    attacker.post(reverse("two_factor_disable"), {"code": code_for(key, steps_ahead=1)})

    assert TOTPDevice.objects.filter(user=viewer, confirmed=True).exists()
    assert not AuditLogEntry.objects.filter(action="auth.2fa_disabled").exists()


# --- decoys: the legitimate changes still work --------------------------------------------------


def test_a_verified_session_replaces_the_device_only_once_the_new_one_is_confirmed(approver):
    client = sign_in(approver)
    old_key = set_up_two_factor(client)
    old_device = TOTPDevice.objects.get(user=approver)
    require_2fa()

    new_key = key_on_page(client.post(reverse("two_factor_setup")).content.decode())
    assert TOTPDevice.objects.filter(pk=old_device.pk, confirmed=True).exists()  # kept while pending
    assert client.post(reverse("two_factor_confirm"), {"code": "000000"}).status_code == 400
    assert TOTPDevice.objects.filter(pk=old_device.pk, confirmed=True).exists()  # a wrong code changes nothing
    time.sleep(1.1)  # the pending device's throttle after one wrong code
    assert client.post(reverse("two_factor_confirm"), {"code": code_for(new_key)}).status_code == 302

    new_device = TOTPDevice.objects.get(user=approver)
    assert new_device.pk != old_device.pk and new_device.confirmed
    assert is_session_verified(client)
    entry = AuditLogEntry.objects.get(action="auth.2fa_replaced")
    assert entry.actor == approver
    assert entry.details == {"device_id": new_device.pk, "replaced_device_ids": [old_device.pk]}
    assert new_key != old_key


def test_a_first_device_with_the_password_typed_again_is_enrolled(viewer):
    client = sign_in(viewer)

    set_up_two_factor(client, password=PASSWORD)

    assert TOTPDevice.objects.get(user=viewer).confirmed
    steps = ["auth.reauthenticated", "auth.2fa_setup_begun", "auth.2fa_enabled"]
    logged = AuditLogEntry.objects.filter(actor=viewer, action__in=steps).order_by("seq")
    assert list(logged.values_list("action", flat=True)) == steps


def test_a_first_device_needs_the_password_again_not_only_the_sign_in(viewer):
    client = sign_in(viewer)

    without = client.post(reverse("two_factor_setup"))
    wrong = client.post(reverse("two_factor_setup"), {"password": "not the password"})

    assert without.status_code == 403
    assert wrong.status_code == 400
    assert "That is not your password." in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=viewer).exists()
    assert AuditLogEntry.objects.filter(action="auth.login_failed").count() == 1  # counted by django-axes too


def test_a_stale_reauthentication_cannot_confirm_or_begin_a_first_device(viewer):
    client = sign_in(viewer)
    key = key_on_page(client.post(reverse("two_factor_setup"), {"password": PASSWORD}).content.decode())
    session = client.session
    session[two_factor.REAUTH_SESSION_KEY] = time.time() - two_factor.REAUTH_MAX_AGE.total_seconds() - 1
    session.save()

    confirm = client.post(reverse("two_factor_confirm"), {"code": code_for(key)})
    again = client.post(reverse("two_factor_setup"))

    assert confirm.status_code == 403
    assert again.status_code == 403
    assert not TOTPDevice.objects.filter(user=viewer, confirmed=True).exists()


def test_the_setup_page_asks_a_password_only_session_to_verify_first_and_a_new_person_for_the_password(viewer, team_lead):
    set_up_two_factor(sign_in(viewer))

    with_device = sign_in(viewer).get(reverse("two_factor_setup")).content.decode()
    first_device = sign_in(team_lead).get(reverse("two_factor_setup")).content.decode()

    assert "first <a href=\"/accounts/two-factor/verify/?next=/accounts/two-factor/setup/\">enter a code" in with_device
    assert "Start setup" not in with_device
    assert 'type="password" name="password"' in first_device and "Start setup" in first_device


# --- recovery codes -----------------------------------------------------------------------------


def test_recovery_codes_need_a_session_that_passed_two_factor(viewer):
    set_up_two_factor(sign_in(viewer))

    response = sign_in(viewer).post(reverse("two_factor_recovery_codes"))

    assert response.status_code == 302
    assert not RecoveryCode.objects.exists()


def test_a_recovery_code_passes_two_factor_once_and_is_then_burned(approver):
    codes = generate_recovery_codes(sign_in_and_set_up(approver))
    require_2fa()
    assert len(codes) == two_factor.RECOVERY_CODE_COUNT == len(set(codes))

    first = sign_in(approver)
    assert first.post(reverse("two_factor_verify"), {"code": codes[0], "next": "/cleanup/"})["Location"] == "/cleanup/"
    assert is_session_verified(first)
    another = sign_in(approver)  # a different, unused code still works
    assert another.post(reverse("two_factor_verify"), {"code": codes[1].upper().replace("-", " ")}).status_code == 302
    replay = sign_in(approver)
    assert replay.post(reverse("two_factor_verify"), {"code": codes[0]}).status_code == 400

    assert not is_session_verified(replay)
    used = AuditLogEntry.objects.filter(action="auth.2fa_recovery_code_used", actor=approver).order_by("seq")
    assert [e.details["recovery_codes_left"] for e in used] == [9, 8]


def test_generating_recovery_codes_again_invalidates_the_old_ones(approver):
    client = sign_in_and_set_up(approver)
    old = generate_recovery_codes(client)
    new = generate_recovery_codes(client)
    require_2fa()

    assert sign_in(approver).post(reverse("two_factor_verify"), {"code": new[0]}).status_code == 302
    assert sign_in(approver).post(reverse("two_factor_verify"), {"code": old[1]}).status_code == 400
    assert RecoveryCode.objects.filter(user=approver).count() == two_factor.RECOVERY_CODE_COUNT
    generated = AuditLogEntry.objects.filter(action="auth.2fa_recovery_codes_generated").order_by("seq")
    assert [e.details for e in generated] == [{"count": 10, "replaced": 0}, {"count": 10, "replaced": 10}]


def test_a_lost_phone_is_replaced_after_signing_in_with_a_recovery_code(approver):
    client = sign_in_and_set_up(approver)
    codes = generate_recovery_codes(client)
    require_2fa()
    lost_device = TOTPDevice.objects.get(user=approver)

    session = sign_in(approver)
    session.post(reverse("two_factor_verify"), {"code": codes[3]})
    set_up_two_factor(session, password=None)

    assert not TOTPDevice.objects.filter(pk=lost_device.pk).exists()
    assert AuditLogEntry.objects.get(action="auth.2fa_replaced").details["replaced_device_ids"] == [lost_device.pk]


def every_row_as_text() -> str:
    """Every row of every table, read in this test's own transaction (a `pg_dump` would need a
    committed, transactional test, whose flush afterwards removes the role groups other tests use)."""
    with connection.cursor() as cursor:
        rows: list[str] = []
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT t::text FROM {connection.ops.quote_name(table)} t")  # noqa: S608 -- names from introspection
            rows.extend(row[0] for row in cursor.fetchall())
    return "\n".join(rows)


def test_recovery_codes_are_not_in_the_database_in_clear(viewer):
    if connection.vendor != "postgresql":
        pytest.skip("reads rows as text the PostgreSQL way")
    codes = generate_recovery_codes(sign_in_and_set_up(viewer))

    everything = every_row_as_text()

    assert RecoveryCode.objects.filter(user=viewer).count() == 10
    assert two_factor.hash_recovery_code(codes[0]) in everything  # the scan does see the rows
    for code in codes:
        assert code not in everything and code.replace("-", "") not in everything


def test_the_profile_does_not_show_recovery_codes_again(viewer):
    client = sign_in_and_set_up(viewer)
    codes = generate_recovery_codes(client)

    page = client.get(reverse("profile")).content.decode()

    assert "Recovery codes left: <strong>10</strong>" in page
    assert not any(code in page for code in codes)


# --- the administrator's reset ------------------------------------------------------------------


def test_an_admin_resets_a_lost_device_and_the_person_must_enrol_again(admin_user, approver):
    admin = sign_in_and_set_up(admin_user)  # the admin's own session passed two-factor
    approver_session = sign_in_and_set_up(approver)
    generate_recovery_codes(approver_session)
    require_2fa()

    response = admin.post(reverse("two_factor_admin_reset", args=[approver.pk]), {"next": "/accounts/profile/"})

    assert response.status_code == 302 and response["Location"] == "/accounts/profile/"
    assert not TOTPDevice.objects.filter(user=approver).exists()
    assert not RecoveryCode.objects.filter(user=approver).exists()
    entry = AuditLogEntry.objects.get(action="auth.2fa_admin_reset")
    assert (entry.actor, entry.target_type, entry.target_id, entry.target_label) == (
        admin_user, "auth.user", str(approver.pk), approver.username
    )
    assert entry.details == {"devices_removed": 1, "recovery_codes_removed": 10}
    # the approver's open session lost its verified state, and a new sign-in must enrol again
    assert approver_session.get(reverse("cleanup:list"))["Location"].startswith(reverse("two_factor_setup"))
    assert sign_in(approver).get(reverse("cleanup:list"))["Location"].startswith(reverse("two_factor_setup"))


@pytest.mark.parametrize("role_fixture", ["approver", "team_lead", "compliance_officer", "auditor", "viewer"])
def test_only_admins_can_reset_someone_elses_two_factor(request, role_fixture, second_approver):
    set_up_two_factor(sign_in(second_approver))
    user = request.getfixturevalue(role_fixture)
    client = sign_in_and_set_up(user)

    response = client.post(reverse("two_factor_admin_reset", args=[second_approver.pk]))

    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=second_approver, confirmed=True).exists()
    assert not AuditLogEntry.objects.filter(action="auth.2fa_admin_reset").exists()


def test_an_admin_session_that_has_not_passed_two_factor_cannot_reset(admin_user, approver):
    set_up_two_factor(sign_in(approver))

    response = sign_in(admin_user).post(reverse("two_factor_admin_reset", args=[approver.pk]))

    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user=approver, confirmed=True).exists()
    assert not AuditLogEntry.objects.filter(action="auth.2fa_admin_reset").exists()


def test_an_admin_cannot_reset_their_own_two_factor(admin_user):
    client = sign_in_and_set_up(admin_user)

    client.post(reverse("two_factor_admin_reset", args=[admin_user.pk]))

    assert TOTPDevice.objects.filter(user=admin_user, confirmed=True).exists()


def test_the_reset_capability_belongs_to_admins_only():
    assert MATRIX[Capability.RESET_TWO_FACTOR] == frozenset({Role.ADMIN})


def test_the_reset_button_partial_is_shown_to_admins_only_and_never_for_oneself(admin_user, approver):
    request = RequestFactory().get("/people/")

    def rendered(viewer, can_reset: bool) -> str:
        request.user = viewer
        context = {"target_user": approver, "user": viewer, "can": {"reset_two_factor": can_reset}}
        return render_to_string("openclaw_web/_two_factor_admin_reset.html", context, request=request)

    shown = rendered(admin_user, True)
    assert f'action="{reverse("two_factor_admin_reset", args=[approver.pk])}"' in shown
    assert 'name="next" value="/people/"' in shown
    assert "<form" not in rendered(approver, False)
    assert "<form" not in rendered(approver, True)  # the target themselves


def sign_in_and_set_up(user) -> Client:
    """A signed-in session that has just enrolled a first device (and so passed two-factor)."""
    client = sign_in(user)
    set_up_two_factor(client)
    return client
