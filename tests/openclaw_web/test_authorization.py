"""The authorization matrix over every route in the URL conf and every role.

Routes are discovered from the URL conf, so a new route without a rule fails here."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from openclaw_web.roles import MATRIX, Capability, Role
from tests.security.routes import named_routes

# Routes that are deliberately open or guarded by Django itself, each with its reason.
PUBLIC = {
    "login": "the sign-in page",
    "logout": "signing out needs no role (POST only)",
}
EXCLUDED_NAMESPACES = {
    "admin": "Django admin: staff-only by Django's own check",
    "api": "the JSON API: its matrix is generated from the ninja routers in tests/security/test_api_authorization.py",
}

ROUTES = named_routes(skipped=EXCLUDED_NAMESPACES)
GUARDED = [(name, pattern, kwargs) for name, pattern, kwargs in ROUTES if name not in PUBLIC]


def test_every_route_declares_the_capability_it_needs():
    missing = [name for name, pattern, _ in GUARDED if not hasattr(pattern.callback, "required_capability")]
    assert missing == [], f"routes without an authorization rule: {missing}"


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "pattern", "kwargs"), GUARDED, ids=[r[0] for r in GUARDED])
def test_anonymous_visitors_are_sent_to_login(name, pattern, kwargs):
    url = reverse(name, kwargs=kwargs)

    response = Client().get(url)
    if response.status_code == 405:  # a POST-only route: the POST is what must be refused
        response = Client().post(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role), ids=[r.name for r in Role])
@pytest.mark.parametrize(("name", "pattern", "kwargs"), GUARDED, ids=[r[0] for r in GUARDED])
def test_each_role_is_allowed_or_refused_exactly_as_the_matrix_says(role, name, pattern, kwargs):
    user = User.objects.create_user(username=f"u-{role.name}")
    user.groups.add(Group.objects.get(name=role.value))
    client = Client()
    client.force_login(user)
    allowed = role in MATRIX[pattern.callback.required_capability]

    response = client.get(reverse(name, kwargs=kwargs))
    if response.status_code == 405:  # a POST-only route: an empty POST is refused or reaches the form
        response = client.post(reverse(name, kwargs=kwargs))

    if allowed:
        assert response.status_code in (200, 302, 400, 404, 405), f"{role} should reach {name}"
        if response.status_code == 302:
            assert not response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == 403, f"{role} must be refused {name}"


# The matrix itself, pinned for the capabilities an auditor will ask about: these lines are the
# product's promise and must change only on purpose.
@pytest.mark.parametrize(
    ("capability", "roles"),
    [
        (Capability.APPROVE_CLEANUP, {Role.ADMIN, Role.APPROVER}),
        (Capability.PROPOSE_CLEANUP, {Role.ADMIN, Role.TEAM_LEAD}),
        (Capability.TRIGGER_SYNC, {Role.ADMIN}),
        (Capability.VIEW_AUDIT_LOG, {Role.ADMIN, Role.COMPLIANCE_OFFICER, Role.AUDITOR}),
        (Capability.VIEW_REPORTS, {Role.ADMIN, Role.COMPLIANCE_OFFICER, Role.AUDITOR}),
        (Capability.MANAGE_REVIEWS, {Role.ADMIN, Role.COMPLIANCE_OFFICER}),
        (Capability.EDIT_POLICY, {Role.ADMIN}),
    ],
)
def test_sensitive_capabilities_belong_to_exactly_these_roles(capability, roles):
    assert MATRIX[capability] == frozenset(roles)


def test_auditors_and_viewers_can_change_nothing():
    read_only = {Capability.VIEW_INVENTORY, Capability.VIEW_CLEANUP, Capability.VIEW_REVIEWS, Capability.VIEW_REPORTS,
                 Capability.VIEW_AUDIT_LOG, Capability.USE_API, Capability.OWN_PROFILE}
    for role in (Role.AUDITOR, Role.VIEWER):
        granted = {cap for cap, roles in MATRIX.items() if role in roles}
        assert granted <= read_only, f"{role} holds write capabilities {granted - read_only}"
