"""Every change to OpenClaw's own people, roles and credentials is in the audit log, whatever the
path: the ORM (a shell), the Django admin, management commands, a page. Secret material never is."""

from __future__ import annotations

import base64
import datetime
import importlib
import json
from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.test import Client
from django.urls import NoReverseMatch, clear_url_caches, reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

import openclaw_web.urls
from compliance import audit
from compliance.models import AuditLogEntry
from compliance.reports import sections, soc2, verdicts
from compliance.reports.evidence import Evidence
from compliance.reviews.periods import Period
from openclaw_web import tokens
from openclaw_web.models import ApiToken
from openclaw_web.roles import Role

pytestmark = pytest.mark.django_db

ADMIN_URLCONF = "tests.openclaw_web.admin_urls"
STRONG_PASSWORD = "tangerine-Kestrel-4471-orbit"


def _entries(action: str, **filters: object) -> list[AuditLogEntry]:
    return list(AuditLogEntry.objects.filter(action=action, **filters).order_by("seq"))


def _role(role: Role) -> Group:
    return Group.objects.get_or_create(name=role.value)[0]


def _log_text() -> str:
    """Everything the audit log holds, as one string to search for secret material."""
    rows = AuditLogEntry.objects.values("actor_label", "action", "target_label", "target_id", "details")
    return json.dumps(list(rows), default=str)


# --- users ---------------------------------------------------------------------------------


def test_a_user_created_through_the_orm_is_recorded_with_system_as_actor():
    User.objects.create_user(username="shell_made", email="s@example.com", password=STRONG_PASSWORD)

    [entry] = _entries("people.user_created", target_label="shell_made")
    assert entry.actor_id is None
    assert entry.actor_label == "system"
    assert entry.details["user"] == "shell_made" and entry.details["usable_password"] is True
    assert audit.verify_chain().ok


def test_making_someone_superuser_records_before_and_after():
    user = User.objects.create_user(username="quiet")

    user.is_superuser = True
    user.is_staff = True
    user.save()

    [entry] = _entries("people.user_changed", target_label="quiet")
    assert entry.details["changes"] == {"is_staff": [False, True], "is_superuser": [False, True]}


def test_deactivating_and_reactivating_are_recorded_as_such():
    user = User.objects.create_user(username="leaver")

    user.is_active = False
    user.save(update_fields=["is_active"])
    user.is_active = True
    user.save()

    assert len(_entries("people.user_deactivated", target_label="leaver")) == 1
    assert len(_entries("people.user_activated", target_label="leaver")) == 1
    assert _entries("people.user_changed", target_label="leaver") == []


def test_saving_an_unchanged_user_records_nothing():
    user = User.objects.create_user(username="steady", email="s@example.com")
    before = AuditLogEntry.objects.count()

    user.save()
    User.objects.get(pk=user.pk).save()

    assert AuditLogEntry.objects.count() == before


def test_signing_in_records_the_sign_in_and_no_user_change(client):
    User.objects.create_user(username="signs_in", password=STRONG_PASSWORD)
    before = AuditLogEntry.objects.latest("seq").seq

    response = client.post(reverse("login"), {"username": "signs_in", "password": STRONG_PASSWORD})

    assert response.status_code == 302
    assert User.objects.get(username="signs_in").last_login is not None
    new = list(AuditLogEntry.objects.filter(seq__gt=before).values_list("action", flat=True))
    assert new == ["auth.login"]


def test_deleting_a_user_is_recorded():
    User.objects.create_user(username="gone").delete()

    assert len(_entries("people.user_deleted", target_label="gone")) == 1


# --- passwords -----------------------------------------------------------------------------


def test_a_password_change_is_recorded_without_the_hash_or_the_password():
    user = User.objects.create_user(username="rotates", password=STRONG_PASSWORD)
    old_hash = user.password

    user.set_password("a-completely-new-Passphrase-99")
    user.save()

    [entry] = _entries("people.password_changed", target_label="rotates")
    assert entry.details == {"user": "rotates", "how": "set"}
    text = _log_text()
    for secret in ("a-completely-new-Passphrase-99", STRONG_PASSWORD, user.password, old_hash,
                   user.password.split("$")[-1], old_hash.split("$")[-1]):
        assert secret not in text


def test_a_hash_written_directly_is_recorded_too():
    from django.contrib.auth.hashers import make_password

    user = User.objects.create_user(username="sneaky", password=STRONG_PASSWORD)
    hashed = make_password("planted-by-hand-Passphrase-1")

    user = User.objects.get(pk=user.pk)  # a fresh instance, as a shell session would have
    user.password = hashed
    user.save(update_fields=["password"])

    [entry] = _entries("people.password_hash_replaced", target_label="sneaky")
    assert entry.details == {"user": "sneaky", "old_hash_was_outdated": False}
    assert hashed not in _log_text()


# --- management commands -------------------------------------------------------------------


def test_createsuperuser_is_recorded_with_the_command_as_actor(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", STRONG_PASSWORD)

    call_command("createsuperuser", interactive=False, username="root2", email="root2@example.com", stdout=StringIO())

    [entry] = _entries("people.user_created", target_label="root2")
    assert entry.actor_label == "manage.py createsuperuser"
    assert entry.details["is_superuser"] is True
    assert STRONG_PASSWORD not in _log_text()


def test_changepassword_is_recorded_with_the_command_as_actor(monkeypatch):
    User.objects.create_user(username="forgetful", password=STRONG_PASSWORD)
    # The command reads the new password twice from the terminal.
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "Brand-new-Passphrase-2026")

    call_command("changepassword", "forgetful", stdout=StringIO())

    [entry] = _entries("people.password_changed", target_label="forgetful")
    assert entry.actor_label == "manage.py changepassword"
    assert "Brand-new-Passphrase-2026" not in _log_text()


# --- roles ---------------------------------------------------------------------------------


def test_adding_approver_through_user_groups_names_role_and_user():
    user = User.objects.create_user(username="minted")

    user.groups.add(_role(Role.APPROVER))

    [entry] = _entries("people.role_added", target_label="minted")
    assert entry.details == {"user": "minted", "role": "approver"}
    assert entry.target_id == str(user.pk)


def test_adding_approver_through_the_group_side_names_role_and_user():
    first = User.objects.create_user(username="first")
    second = User.objects.create_user(username="second")

    _role(Role.APPROVER).user_set.add(first, second)

    entries = _entries("people.role_added")
    assert [(e.details["user"], e.details["role"]) for e in entries] == [("first", "approver"), ("second", "approver")]
    assert [e.target_id for e in entries] == [str(first.pk), str(second.pk)]


def test_adding_a_role_already_held_records_nothing():
    user = User.objects.create_user(username="holder")
    user.groups.add(_role(Role.VIEWER))

    user.groups.add(_role(Role.VIEWER))

    assert len(_entries("people.role_added", target_label="holder")) == 1


def test_removing_a_role_not_held_records_nothing():
    user = User.objects.create_user(username="plain")

    user.groups.remove(_role(Role.ADMIN))
    _role(Role.ADMIN).user_set.remove(user)

    assert _entries("people.role_removed") == []


def test_clearing_roles_records_each_role_removed_from_either_side():
    user = User.objects.create_user(username="stripped")
    other = User.objects.create_user(username="other")
    user.groups.add(_role(Role.ADMIN), _role(Role.APPROVER))
    other.groups.add(_role(Role.AUDITOR))

    user.groups.clear()
    _role(Role.AUDITOR).user_set.clear()

    removed = {(e.details["user"], e.details["role"]) for e in _entries("people.role_removed")}
    assert removed == {("stripped", "admin"), ("stripped", "approver"), ("other", "auditor")}


def test_setting_roles_records_only_the_difference():
    user = User.objects.create_user(username="shifted")
    user.groups.add(_role(Role.VIEWER), _role(Role.TEAM_LEAD))

    user.groups.set([_role(Role.TEAM_LEAD), _role(Role.APPROVER)])

    assert [e.details["role"] for e in _entries("people.role_removed", target_label="shifted")] == ["viewer"]
    assert [e.details["role"] for e in _entries("people.role_added", target_label="shifted")][-1] == "approver"


def test_renaming_a_group_into_a_role_is_recorded():
    group = Group.objects.create(name="contractors")

    group.name = "admin-2"
    group.save()

    [entry] = _entries("people.role_renamed")
    assert entry.details == {"role": "admin-2", "renamed_from": "contractors"}


# --- two-factor devices --------------------------------------------------------------------


def test_a_totp_device_created_confirmed_and_deleted_is_recorded_without_its_key(viewer):
    device = TOTPDevice.objects.create(user=viewer, name="phone", confirmed=False)
    device.confirmed = True
    device.save()
    device.throttling_failure_count = 1  # a failed code: not an access change
    device.save(update_fields=["throttling_failure_count"])
    key_hex, key_b32 = device.key, base64.b32encode(device.bin_key).decode()
    device.delete()

    [created] = _entries("people.2fa_device_created", target_label=viewer.username)
    assert created.details["device"] == "TOTPDevice" and created.details["confirmed"] is False
    assert len(_entries("people.2fa_device_confirmed", target_label=viewer.username)) == 1
    assert len(_entries("people.2fa_device_deleted", target_label=viewer.username)) == 1
    text = _log_text()
    assert key_hex not in text and key_b32 not in text and key_b32.lower() not in text


# --- API tokens ----------------------------------------------------------------------------


def test_a_token_made_through_tokens_py_is_recorded_once(viewer):
    tokens.create_token(user=viewer, name="siem")

    assert len(_entries("api_token.created")) == 1


def test_a_token_planted_from_a_shell_is_recorded(viewer):
    token = ApiToken.objects.create(user=viewer, name="backdoor", prefix="abcdefgh", token_hash="f" * 64)

    [entry] = _entries("api_token.created")
    assert entry.actor_label == "system"
    assert entry.details == {"user": viewer.username, "name": "backdoor", "prefix": "abcdefgh"}
    assert "f" * 64 not in _log_text()

    token.revoked_at = timezone.now()
    token.save()
    token.last_used_at = timezone.now()  # a later save of a revoked token is no second revocation
    token.save(update_fields=["last_used_at"])
    assert len(_entries("api_token.revoked")) == 1


# --- the Django admin ----------------------------------------------------------------------


def test_the_admin_is_not_mounted_by_default(client, admin_user):
    client.force_login(User.objects.create_superuser(username="super", password=STRONG_PASSWORD))

    assert client.get("/admin/").status_code == 404
    assert client.get("/admin/auth/user/add/").status_code == 404
    with pytest.raises(NoReverseMatch):
        reverse("admin:index")


def test_admin_enabled_mounts_the_admin(settings):
    settings.ADMIN_ENABLED = True
    try:
        importlib.reload(openclaw_web.urls)
        clear_url_caches()
        assert reverse("admin:index") == "/admin/"
    finally:
        settings.ADMIN_ENABLED = False
        importlib.reload(openclaw_web.urls)
        clear_url_caches()
    with pytest.raises(NoReverseMatch):
        reverse("admin:index")


@pytest.fixture
def admin_client(settings) -> Client:
    settings.ROOT_URLCONF = ADMIN_URLCONF
    superuser = User.objects.create_superuser(username="super", email="super@example.com", password=STRONG_PASSWORD)
    client = Client()
    client.force_login(superuser)
    return client


def test_a_user_created_in_the_admin_is_recorded_with_the_admin_as_actor(admin_client):
    response = admin_client.post("/admin/auth/user/add/", {
        "username": "second_person", "usable_password": "true",
        "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD})

    assert response.status_code == 302, response.content[:2000]
    [entry] = _entries("people.user_created", target_label="second_person")
    assert entry.actor_id == User.objects.get(username="super").pk


def test_a_role_given_in_the_admin_is_recorded_with_the_admin_as_actor(admin_client):
    person = User.objects.create_user(username="promoted", password=STRONG_PASSWORD)
    change = f"/admin/auth/user/{person.pk}/change/"

    response = admin_client.post(change, {
        "username": "promoted", "email": "", "first_name": "", "last_name": "", "is_active": "on",
        "groups": [_role(Role.APPROVER).pk], "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2026-01-01", "initial-date_joined_1": "00:00:00"})

    assert response.status_code == 302, response.content[:3000]
    [entry] = _entries("people.role_added", target_label="promoted")
    assert entry.actor_id == User.objects.get(username="super").pk and entry.details["role"] == "approver"


def test_the_admin_never_shows_a_totp_key(admin_client, viewer):
    device = TOTPDevice.objects.create(user=viewer, name="phone", confirmed=True)
    key_b32 = base64.b32encode(device.bin_key).decode()

    listing = admin_client.get("/admin/otp_totp/totpdevice/")
    page = admin_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    config = admin_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/config/", follow=True)
    qrcode = admin_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/", follow=True)

    assert page.status_code == 200 and b"phone" in page.content
    for response in (listing, page, config, qrcode):
        body = response.content.decode()
        assert device.key not in body and key_b32 not in body and "otpauth://" not in body
    assert "svg" not in qrcode.get("Content-Type", "")
    assert admin_client.get("/admin/otp_totp/totpdevice/add/").status_code == 403


# --- the SOC 2 report ----------------------------------------------------------------------


def _period(start: datetime.datetime, end: datetime.datetime) -> Period:
    return Period(start=start, end=end, label=f"{start.year}Q{(start.month - 1) // 3 + 1}")


def test_the_soc2_report_lists_role_changes_made_in_the_period_and_not_after_it():
    approver, admin = _role(Role.APPROVER), _role(Role.ADMIN)  # before the period, should a test have flushed them
    start = timezone.now()
    inside = User.objects.create_user(username="in_period")
    inside.groups.add(approver)
    tokens.create_token(user=inside, name="ci")
    end = timezone.now()
    outside = User.objects.create_user(username="after_period")
    outside.groups.add(admin)
    period = _period(start, end)

    document = soc2.build(period=period, accounts=[], generator="test", now=end + datetime.timedelta(days=1))

    section = document.section("own_access")
    table = next(t for t in section.tables if t.key == "own_access_changes")
    rows = list(table.rows())
    what = [(r[2], r[3], r[4]) for r in rows]
    assert ("Role added", "in_period", "role “approver”") in what
    assert ("API token created", "in_period") in [w[:2] for w in what]
    assert not any("after_period" in str(r) for r in rows)
    assert next(k for k in section.kpis if k.label == "Role changes").value == "1"
    controls = document.section("controls").tables[0].top
    cc62 = next(r for r in controls if r[0] == "CC6.2")
    assert "3 access changes" in str(cc62[3])  # the person created, the role added, the token


def test_a_period_without_access_changes_says_so():
    User.objects.create_user(username="earlier")  # OpenClaw was recording before the period
    period = _period(timezone.now(), timezone.now())
    User.objects.create_user(username="later")

    section = sections.own_access_changes_section(Evidence(period=period, accounts=[]))

    assert "no such changes in this period" in section.intro
    assert section.kpis[0].value == "0"
    line = verdicts.evidence_lines(Evidence(period=period, accounts=[]))["openclaw_access_changes"]
    assert line.available
    assert "no access changes in the period" in line.text
