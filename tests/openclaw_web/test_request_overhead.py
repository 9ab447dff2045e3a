"""What every signed-in page pays before its view: the person with their roles, the sidebar, the cache client.

Each is a shortcut (openclaw_web/auth_backend.py, openclaw_web/templatetags/main_nav.py,
openclaw_web/cache_backend.py); these tests hold them to the slow path's answers: roles read
afresh on every request, the sidebar of the viewer's own roles and page, the same cached values.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openclaw_web.roles import Role

pytestmark = pytest.mark.django_db

NAV_LINK = re.compile(r'<a href="[^"]*"\s*(aria-current="page")?\s*>([^<]+)</a>')


def _sidebar(html: str) -> list[tuple[str, bool]]:
    nav = html[html.index("<nav>") : html.index("</nav>")]
    return [(label.replace("&amp;", "&"), bool(current)) for current, label in NAV_LINK.findall(nav)]


def test_a_page_reads_the_person_and_their_roles_in_one_query(client_for, team_lead) -> None:
    client = client_for(team_lead)
    client.get("/findings/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/findings/").status_code == 200
    person_reads = [q["sql"] for q in queries.captured_queries if 'FROM "auth_user"' in q["sql"]]
    group_reads = [
        q["sql"]
        for q in queries.captured_queries
        if 'FROM "auth_group"' in q["sql"] and 'FROM "auth_user"' not in q["sql"]
    ]
    assert len(person_reads) == 1 and "group_names" in person_reads[0]
    assert group_reads == []  # the roles came with the person


def test_roles_are_read_afresh_on_every_request(client_for, team_lead) -> None:
    client = client_for(team_lead)
    assert client.get("/findings/").status_code == 200
    team_lead.groups.clear()
    assert client.get("/findings/").status_code == 403  # the next page already knows
    team_lead.groups.add(Group.objects.get(name=Role.TEAM_LEAD.value))
    assert client.get("/findings/").status_code == 200


def test_a_group_that_is_no_role_gives_no_capability(client_for, make_user) -> None:
    person = make_user("nora_norole")
    person.groups.add(Group.objects.create(name="team leads of payments"))  # looks like one, is not
    assert client_for(person).get("/findings/").status_code == 403


def test_a_deactivated_person_is_signed_out(client_for, team_lead) -> None:
    client = client_for(team_lead)
    team_lead.is_active = False
    team_lead.save(update_fields=["is_active"])
    response = client.get("/findings/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_sidebar_shows_the_viewers_roles_and_current_page(client_for, viewer, make_user) -> None:
    admin = make_user("ada_admin", Role.ADMIN)
    viewer_nav = _sidebar(client_for(viewer).get("/findings/").content.decode())
    admin_nav = _sidebar(client_for(admin).get("/findings/").content.decode())
    viewer_labels = [label for label, _ in viewer_nav]
    assert "Audit log" not in viewer_labels and "People & roles" not in viewer_labels
    assert "Audit log" in [label for label, _ in admin_nav] and "People & roles" in [label for label, _ in admin_nav]
    assert [label for label, current in viewer_nav if current] == ["Findings"]
    # The same viewer on another page: the copy for that page, not the findings page's.
    on_dashboard = _sidebar(client_for(viewer).get("/").content.decode())
    assert [label for label, current in on_dashboard if current] == ["Dashboard"]


def test_the_sidebar_follows_a_role_change_at_once(client_for, viewer) -> None:
    client = client_for(viewer)
    assert "People & roles" not in [label for label, _ in _sidebar(client.get("/").content.decode())]
    viewer.groups.add(Group.objects.get_or_create(name=Role.ADMIN.value)[0])
    assert "People & roles" in [label for label, _ in _sidebar(client.get("/").content.decode())]


def test_the_cache_keeps_one_client_per_pool_and_the_same_values(redis_cache, settings) -> None:
    cache = caches["default"]
    backend = cache._cache  # type: ignore[attr-defined]  # Django's client behind the cache
    client = backend.get_client("a")
    assert backend.get_client("b", write=True) is client
    cache.set("openclaw-test-key", {"n": 1})
    assert cache.get("openclaw-test-key") == {"n": 1}
    assert redis_cache.exists(cache.make_key("openclaw-test-key"))
