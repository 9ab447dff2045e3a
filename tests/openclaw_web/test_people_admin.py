"""The people page (/settings/people/): admins list people, create them, change their roles and
(de)activate them; everyone else is refused; every change is in the audit log naming the admin."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from compliance.models import AuditLogEntry
from openclaw_web.roles import Role

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "tangerine-Kestrel-4471-orbit"
PEOPLE_URLS = [("people_admin", {}), ("people_admin_create", {}), ("people_admin_roles", {"pk": 1}),
               ("people_admin_active", {"pk": 1})]


def _roles(user: User) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


@pytest.mark.parametrize("persona", ["team_lead", "approver", "compliance_officer", "auditor", "viewer"])
@pytest.mark.parametrize(("name", "kwargs"), PEOPLE_URLS)
def test_only_admins_reach_the_people_page(request, client_for, persona, name, kwargs):
    user = request.getfixturevalue(persona)
    client = client_for(user)

    assert client.get(reverse(name, kwargs=kwargs)).status_code == 403
    assert client.post(reverse(name, kwargs=kwargs), {"roles": ["admin"], "active": "1"}).status_code == 403
    assert _roles(user) == {persona.replace("_", " ")}


def test_an_approver_cannot_make_themselves_admin(client_for, approver):
    client_for(approver).post(reverse("people_admin_roles", args=[approver.pk]), {"roles": ["admin", "approver"]})

    assert _roles(approver) == {"approver"}
    assert not AuditLogEntry.objects.filter(action="people.role_added", target_id=str(approver.pk)).exclude(
        details__role="approver").exists()


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("people_admin"))

    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_page_lists_people_with_roles_state_two_factor_and_last_sign_in(client_for, admin_user, approver, viewer):
    TOTPDevice.objects.create(user=approver, name="phone", confirmed=True)
    viewer.is_active = False
    viewer.save()

    response = client_for(admin_user).get(reverse("people_admin"))

    assert response.status_code == 200
    body = response.content.decode()
    approver_row = body.split(f'id="person-{approver.pk}"')[1].split("</tr>")[0]
    viewer_row = body.split(f'id="person-{viewer.pk}"')[1].split("</tr>")[0]
    assert "april_approver" in approver_row and ">on" in approver_row
    assert re.search(r'value="approver"[^>]*checked', approver_row)
    assert not re.search(r'value="admin"[^>]*checked', approver_row)
    assert "inactive" in viewer_row and "Reactivate" in viewer_row
    assert "never" in viewer_row


def test_the_page_offers_the_two_factor_reset_for_people_with_a_device(client_for, admin_user, approver, viewer):
    TOTPDevice.objects.create(user=approver, name="phone", confirmed=True)

    body = client_for(admin_user).get(reverse("people_admin")).content.decode()

    assert reverse("two_factor_admin_reset", args=[approver.pk]) in body
    assert reverse("two_factor_admin_reset", args=[viewer.pk]) not in body


def test_the_page_costs_the_same_queries_for_ten_people_as_for_two(client_for, admin_user, make_user):
    client = client_for(admin_user)
    make_user("p1", Role.VIEWER)
    client.get(reverse("people_admin"))  # the first request creates the global policy row
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("people_admin"))
    for n in range(2, 11):
        make_user(f"p{n}", Role.VIEWER, Role.APPROVER)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("people_admin"))

    assert len(many.captured_queries) == len(few.captured_queries)


def test_an_admin_creates_a_person_with_roles_and_it_is_audit_logged(client_for, admin_user):
    response = client_for(admin_user).post(reverse("people_admin_create"), {
        "username": "newcomer", "email": "new@example.com", "first_name": "New", "last_name": "Comer",
        "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD, "roles": ["approver", "viewer"]})

    assert response.status_code == 302
    person = User.objects.get(username="newcomer")
    assert person.check_password(STRONG_PASSWORD) and _roles(person) == {"approver", "viewer"}
    created = AuditLogEntry.objects.get(action="people.user_created", target_id=str(person.pk))
    assert created.actor_id == admin_user.pk
    roles = AuditLogEntry.objects.filter(action="people.role_added", target_id=str(person.pk))
    assert {(e.details["role"], e.actor_id) for e in roles} == {("approver", admin_user.pk), ("viewer", admin_user.pk)}
    assert STRONG_PASSWORD not in str(list(AuditLogEntry.objects.values_list("details", flat=True)))


def test_a_weak_password_or_a_taken_username_is_refused_with_400(client_for, admin_user, viewer):
    client = client_for(admin_user)

    weak = client.post(reverse("people_admin_create"), {"username": "weakling", "email": "w@example.com",
                                                        "password1": "password", "password2": "password"})
    taken = client.post(reverse("people_admin_create"), {"username": viewer.username, "email": "v@example.com",
                                                         "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD})
    bad_role = client.post(reverse("people_admin_create"), {"username": "x1", "email": "x@example.com", "roles": ["root"],
                                                            "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD})

    assert (weak.status_code, taken.status_code, bad_role.status_code) == (400, 400, 400)
    assert not User.objects.filter(username__in=["weakling", "x1"]).exists()


def test_an_admin_changes_roles_and_each_change_names_the_admin(client_for, admin_user, viewer):
    response = client_for(admin_user).post(reverse("people_admin_roles", args=[viewer.pk]),
                                           {"roles": ["approver", "team lead"]})

    assert response.status_code == 302
    assert _roles(viewer) == {"approver", "team lead"}
    entries = AuditLogEntry.objects.filter(target_id=str(viewer.pk), actor=admin_user)
    assert {(e.action, e.details["role"]) for e in entries} == {
        ("people.role_removed", "viewer"), ("people.role_added", "approver"), ("people.role_added", "team lead")}


def test_roles_that_are_not_openclaw_roles_are_kept(client_for, admin_user, viewer):
    viewer.groups.add(Group.objects.create(name="newsletter"))

    client_for(admin_user).post(reverse("people_admin_roles", args=[viewer.pk]), {"roles": ["auditor"]})

    assert _roles(viewer) == {"auditor", "newsletter"}


def test_an_admin_cannot_remove_their_own_admin_role_or_deactivate_themselves(client_for, admin_user):
    client = client_for(admin_user)

    client.post(reverse("people_admin_roles", args=[admin_user.pk]), {"roles": ["viewer"]})
    client.post(reverse("people_admin_active", args=[admin_user.pk]), {"active": "0"})

    admin_user.refresh_from_db()
    assert _roles(admin_user) == {"admin"} and admin_user.is_active


def test_a_group_admin_cannot_change_a_superuser(client_for, admin_user):
    root = User.objects.create_superuser(username="root", password=STRONG_PASSWORD)

    client_for(admin_user).post(reverse("people_admin_active", args=[root.pk]), {"active": "0"})

    root.refresh_from_db()
    assert root.is_active


def test_deactivating_stops_sign_in_and_is_audit_logged_once(client_for, admin_user, viewer, client):
    admin = client_for(admin_user)

    admin.post(reverse("people_admin_active", args=[viewer.pk]), {"active": "0"})
    admin.post(reverse("people_admin_active", args=[viewer.pk]), {"active": "0"})

    viewer.refresh_from_db()
    assert not viewer.is_active
    assert AuditLogEntry.objects.filter(action="people.user_deactivated", target_id=str(viewer.pk),
                                        actor=admin_user).count() == 1
    signin = client.post(reverse("login"), {"username": viewer.username, "password": "correct horse battery staple 9"})
    assert signin.status_code == 200  # the form again: an inactive account cannot sign in

    admin.post(reverse("people_admin_active", args=[viewer.pk]), {"active": "1"})
    viewer.refresh_from_db()
    assert viewer.is_active
    assert AuditLogEntry.objects.filter(action="people.user_activated", target_id=str(viewer.pk)).count() == 1


def test_the_nav_link_shows_for_admins_only(client_for, admin_user, viewer):
    url = reverse("people_admin")

    assert url in client_for(admin_user).get(reverse("profile")).content.decode()
    assert url not in client_for(viewer).get(reverse("profile")).content.decode()
