"""Review of the per-request shortcuts (openclaw_web/auth_backend.py, templatetags/main_nav.py,
roles.roles_context_for) against their slow paths: every role set and page, a sub-path
deployment, sessions whose password changed or that were signed in under the old backend."""

from __future__ import annotations

from itertools import combinations

import pytest
from django.contrib.auth.models import Group, User
from django.http import HttpRequest
from django.template import RequestContext, Template
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import get_script_prefix, set_script_prefix

from openclaw_web.auth_backend import PersonWithRolesBackend
from openclaw_web.roles import Capability, Role, has_capability, roles_context

pytestmark = pytest.mark.django_db

# Every `nav` a view sets, the empty one of pages without it, and a decoy no view uses.
NAVS = ("", "dashboard", "vaults", "findings", "usage", "breakglass", "cleanup", "offboarding", "reviews",
        "reports", "audit", "alerts", "sync", "tickets", "people_admin", "search", "not-a-page")  # fmt: skip
TAG = Template("{% load main_nav %}{% main_nav %}")


def _people() -> list[User]:
    """One person per subset of the roles (64), plus a superuser without any group."""
    groups = {role: Group.objects.get_or_create(name=role.value)[0] for role in Role}
    people = []
    for size in range(len(Role) + 1):
        for roles in combinations(Role, size):
            person = User.objects.create(username="r_" + "_".join(r.name.lower() for r in roles))
            person.groups.set([groups[r] for r in roles])
            people.append(person)
    people.append(User.objects.create(username="root", is_superuser=True))
    return people


def _request(person: User) -> HttpRequest:
    request = RequestFactory().get("/")
    user = PersonWithRolesBackend().get_user(person.pk)  # the path every page takes
    assert user is not None
    request.user = user
    return request


def _cached_and_slow(person: User, nav: str) -> tuple[str, str]:
    request = _request(person)
    cached = TAG.render(RequestContext(request, {"nav": nav}))
    # The slow path: the same template rendered in the request's own context, no memo.
    slow = render_to_string("openclaw_web/_main_nav.html", {"nav": nav}, request=_request(person))
    return cached, slow


def test_the_cached_sidebar_is_the_slow_paths_for_every_role_set_and_page() -> None:
    people = _people()
    requests = {person.pk: _request(person) for person in people}
    slow = {
        (person.pk, nav): render_to_string("openclaw_web/_main_nav.html", {"nav": nav}, request=requests[person.pk])
        for person in people
        for nav in NAVS
    }
    for _ in range(2):  # the second pass reads every copy back from the memo
        for person in people:
            for nav in NAVS:
                cached = TAG.render(RequestContext(requests[person.pk], {"nav": nav}))
                assert cached == slow[(person.pk, nav)], (person.username, nav)


def test_the_capability_map_is_the_matrix_for_every_role_set() -> None:
    for person in _people():
        request = _request(person)
        can = roles_context(request)["can"]
        fresh = User.objects.get(pk=person.pk)  # roles read by the plain query
        assert dict(can) == {cap.name.lower(): has_capability(fresh, cap) for cap in Capability}, person.username


def test_a_sub_path_deployment_gets_its_own_sidebar(viewer) -> None:
    before = get_script_prefix()
    try:
        root_html, _ = _cached_and_slow(viewer, "findings")
        set_script_prefix("/openclaw/")
        sub_html, sub_slow = _cached_and_slow(viewer, "findings")
    finally:
        set_script_prefix(before)
    assert sub_html == sub_slow and 'href="/openclaw/findings/"' in sub_html
    assert 'href="/findings/"' in root_html and "/openclaw/" not in root_html


def test_a_password_change_ends_the_other_sessions(client_for, team_lead, viewer) -> None:
    changed, unchanged = client_for(team_lead), client_for(viewer)
    assert changed.get("/findings/").status_code == 200
    team_lead.set_password("another long passphrase 42")
    team_lead.save()
    response = changed.get("/findings/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert unchanged.get("/findings/").status_code == 200  # decoy: nobody else's password changed


def test_a_session_of_the_plain_model_backend_ends(client, viewer, make_user) -> None:
    client.force_login(viewer, backend="django.contrib.auth.backends.ModelBackend")
    response = client.get("/findings/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    other = make_user("vic_current", Role.VIEWER)
    client.force_login(other)  # decoy: a session of the current backend is kept
    assert client.get("/findings/").status_code == 200
