"""The authorization matrix over every route in the URL conf and every role.

Routes are discovered from the URL conf, so a new route without a rule fails here. Who may reach
each route is the hand-written table in tests/security/expected_access.py, not the view's own
`@requires`: a view declaring the wrong capability fails too."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from openclaw_web.roles import MATRIX, Capability, Role
from tests.security.expected_access import PAGE_ACCESS
from tests.security.routes import named_routes

# Routes that are deliberately open or guarded by Django itself, each with its reason.
PUBLIC = {
    "login": "the sign-in page",
    "logout": "signing out needs no role (POST only)",
    "favicon": "a redirect to the static icon, which anyone may fetch",
    "breakglass:reason_link": "the signed link e-mailed to a break-glass user, who may have no account: "
    "the signature (tested in tests/vaults/breakglass/) is the guard",
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


def test_every_route_has_a_line_in_the_expected_access_table():
    routes = {name for name, _, _ in GUARDED}

    assert sorted(routes - PAGE_ACCESS.keys()) == [], "new routes: add who may reach them to expected_access.py"
    assert sorted(PAGE_ACCESS.keys() - routes) == [], "expected_access.py lists routes the URL conf no longer has"


def _outcome(client: Client, url: str) -> tuple[int, str]:
    """The status and redirect target of a GET (of an empty POST for POST-only routes)."""
    response = client.get(url)
    if response.status_code != 405:
        return response.status_code, response.get("Location", "")
    response = client.post(url)  # an empty POST: refused, or reaches the form and fails validation
    return response.status_code, response.get("Location", "")


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role), ids=[r.name for r in Role])
@pytest.mark.parametrize(("name", "pattern", "kwargs"), GUARDED, ids=[r[0] for r in GUARDED])
def test_each_role_reaches_exactly_the_routes_the_table_gives_it(role, name, pattern, kwargs):
    user = User.objects.create_user(username=f"u-{role.name}")
    user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    client = Client()
    client.force_login(user)
    allowed = role in PAGE_ACCESS.get(name, frozenset())

    status, location = _outcome(client, reverse(name, kwargs=kwargs))

    if allowed:
        # Past the role check: a page (200), a redirect that is not to the login page (302), or,
        # for the dummy id of a route with one, "no such object" (404); an empty POST may be
        # refused as invalid input (400).
        reached = {200, 302, 400} | ({404} if kwargs else set())
        assert status in reached, f"{role} should reach {name}, got {status}"
        assert not location.startswith(reverse("login")), f"{role} was sent to log in on {name}"
    else:
        assert status == 403, f"{role} must be refused {name}, got {status}"


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
        (Capability.SECOND_APPROVE_REVIEWS, {Role.ADMIN, Role.COMPLIANCE_OFFICER, Role.APPROVER}),
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
