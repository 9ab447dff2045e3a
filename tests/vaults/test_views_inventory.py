"""Vaults list and detail, item detail, people: permissions, escaping, htmx, query counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from compliance.models import AuditLogEntry
from openclaw_web.roles import Role
from tests.vaults.factories import (
    add_member,
    grant,
    make_account,
    make_finding,
    make_item,
    make_op_group,
    make_op_user,
    make_secret,
    make_snapshot,
    make_usage,
    make_vault,
)
from vaults.findings.models import Finding
from vaults.models import Vault

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'

ClientFor = Callable[[User], Client]


@pytest.fixture
def client(viewer: User, client_for: ClientFor) -> Client:
    return client_for(viewer)


def _org(size: int) -> dict[str, Any]:
    """An account with `size` vaults, each with `size` items, grants, usage, findings, snapshots."""
    acct = make_account()
    grp = make_op_group(account=acct, name="Engineers", state="")
    people = [make_op_user(account=acct, name=f"User {n}") for n in range(size)]
    for person in people:
        add_member(group=grp, user=person)
    first_vault = first_item = None
    for v_n in range(size):
        v = make_vault(account=acct, name=f"Vault {v_n}", classification=Vault.Classification.PRODUCTION)
        grant(vault=v, group=grp, permissions=["view_items", "edit_items"])
        grant(vault=v, user=people[0], permissions=["view_items", "manage_vault"])
        make_snapshot(account=acct, score=70, vault=v, penalties={"weak": 12.5}, counts={"weak": 2})
        for i_n in range(size):
            it = make_item(vault=v, title=f"Item {v_n}.{i_n}", category="LOGIN", tags=["prod"],
                           urls=[{"href": "https://example.com", "label": "site"}], has_notes=False,
                           op_created_at=None, op_updated_at=None)
            make_secret(item=it, label="password", purpose="PASSWORD", zxcvbn_score=1, strength="WEAK", length=8,
                        fingerprint=None, changed_at=None)
            make_usage(account=acct, user=people[-1], item=it, action="fill")
            make_finding(account=acct, vault=v, item=it, op_user=people[0])
            first_vault, first_item = first_vault or v, first_item or it
    make_snapshot(account=acct, score=75)
    return {"account": acct, "vault": first_vault, "item": first_item, "person": people[0]}


# --- permissions --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["vaults:list", "vaults:people"])
def test_anonymous_visitors_are_sent_to_sign_in(name: str) -> None:
    response = Client().get(reverse(name))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_every_role_can_open_every_inventory_page(make_user: Callable[..., User], client_for: ClientFor) -> None:
    org = _org(1)
    urls = [
        reverse("vaults:list"), reverse("vaults:people"),
        reverse("vaults:detail", args=[org["vault"].pk]), reverse("vaults:item", args=[org["item"].pk]),
        reverse("vaults:person", args=[org["person"].pk]),
    ]
    for role in Role:
        c = client_for(make_user(f"u-{role.name}", role))
        for url in urls:
            assert c.get(url).status_code == 200, (role, url)


def test_a_user_without_any_role_is_refused(make_user: Callable[..., User], client_for: ClientFor) -> None:
    assert client_for(make_user("nobody")).get(reverse("vaults:list")).status_code == 403


def test_unknown_objects_are_404(client: Client) -> None:
    for name in ("vaults:detail", "vaults:item", "vaults:person"):
        assert client.get(reverse(name, args=[999_999])).status_code == 404


# --- vault list -----------------------------------------------------------------------------------


def test_vault_list_shows_score_band_counts_classification_and_rotation(client: Client) -> None:
    org = _org(2)
    body = client.get(reverse("vaults:list")).content.decode()
    assert org["vault"].name in body
    assert "band-needs-attention" in body
    assert "Production" in body
    assert "90 days" in body  # production rotation period of the default policy


def test_vault_list_filters_by_text_classification_and_account(client: Client) -> None:
    acct, other = make_account(), make_account()
    make_vault(account=acct, name="Payments Production", classification=Vault.Classification.PRODUCTION)
    make_vault(account=acct, name="Marketing Shared", classification=Vault.Classification.SHARED)
    make_vault(account=other, name="Elsewhere Production",
               classification=Vault.Classification.PRODUCTION)
    body = client.get(reverse("vaults:list"), {"q": "payments"}).content.decode()
    assert "Payments Production" in body and "Marketing Shared" not in body
    body = client.get(reverse("vaults:list"), {"classification": "shared"}).content.decode()
    assert "Marketing Shared" in body and "Payments Production" not in body
    body = client.get(reverse("vaults:list"), {"account": other.pk}).content.decode()
    assert "Elsewhere Production" in body and "Payments Production" not in body


def test_vault_list_sorts_worst_score_first(client: Client) -> None:
    acct = make_account()
    good = make_vault(account=acct, name="Good vault")
    bad = make_vault(account=acct, name="Bad vault")
    make_snapshot(account=acct, score=95, vault=good)
    make_snapshot(account=acct, score=20, vault=bad)
    body = client.get(reverse("vaults:list"), {"sort": "score"}).content.decode()
    assert body.index("Bad vault") < body.index("Good vault")


@pytest.mark.parametrize("params", [{"sort": "DROP TABLE"}, {"classification": "secret"}, {"account": "abc"},
                                    {"page": "0"}, {"page": "x"}, {"q": "x" * 500}])
def test_invalid_vault_filters_are_rejected_with_400(client: Client, params: dict[str, str]) -> None:
    assert client.get(reverse("vaults:list"), params).status_code == 400


def test_htmx_request_returns_only_the_vault_table(client: Client) -> None:
    make_vault(account=make_account(), name="Only vault")
    response = client.get(reverse("vaults:list"), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "Only vault" in body
    assert "<html" not in body and 'class="sidebar"' not in body
    assert "HX-Request" in response["Vary"]


def test_htmx_history_restore_gets_the_whole_page(client: Client) -> None:
    response = client.get(reverse("vaults:list"), headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in response.content.decode()


def test_vault_list_paginates(client: Client) -> None:
    acct = make_account()
    for i in range(55):
        make_vault(account=acct, name=f"Vault {i:03d}")
    first = client.get(reverse("vaults:list")).content.decode()
    second = client.get(reverse("vaults:list"), {"page": 2}).content.decode()
    assert "Vault 000" in first and "Vault 054" not in first
    assert "Vault 054" in second and "1\u201350 of 55" in first


def _queries(client: Client, url: str, **kwargs: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, **kwargs).status_code == 200
    return len(ctx.captured_queries)


def test_vault_list_queries_do_not_grow_with_rows(client: Client, django_assert_max_num_queries: Callable) -> None:
    _org(2)
    small = _queries(client, reverse("vaults:list"))
    _org(6)
    with django_assert_max_num_queries(small):
        response = client.get(reverse("vaults:list"))
    # An error page would also run few queries: the capped page must be the real, bigger list.
    assert response.status_code == 200 and "Vault 5" in response.content.decode()
    assert small <= 12


# --- vault detail ---------------------------------------------------------------------------------


def test_vault_detail_shows_items_grants_findings_and_score_breakdown(client: Client) -> None:
    org = _org(2)
    body = client.get(reverse("vaults:detail", args=[org["vault"].pk])).content.decode()
    assert org["item"].title in body
    assert "Engineers" in body and "Direct grant" in body
    assert "Manage vault" in body  # elevated direct right is listed
    assert "Weak secret" in body and "Points lost to" in body
    assert "1/4" in body  # zxcvbn score of the item's password, never its value


def test_vault_detail_queries_do_not_grow_with_rows(client: Client, django_assert_max_num_queries: Callable) -> None:
    small_org = _org(2)
    small = _queries(client, reverse("vaults:detail", args=[small_org["vault"].pk]))
    big_org = _org(7)
    with django_assert_max_num_queries(small):
        response = client.get(reverse("vaults:detail", args=[big_org["vault"].pk]))
    assert response.status_code == 200 and "Item 0.6" in response.content.decode()


def test_vault_detail_item_search_is_an_htmx_fragment(client: Client) -> None:
    v = make_vault(account=make_account(), name="Vault 1")
    make_item(vault=v, title="Stripe Production API key", category="LOGIN", tags=[], urls=[], has_notes=False,
              op_created_at=None, op_updated_at=None)
    make_item(vault=v, title="GitHub Staging token", category="LOGIN", tags=[], urls=[], has_notes=False,
              op_created_at=None, op_updated_at=None)
    response = client.get(reverse("vaults:detail", args=[v.pk]), {"q": "stripe"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "Stripe Production API key" in body and "GitHub Staging token" not in body
    assert "Who has access" not in body


def test_admin_sees_the_settings_form_and_viewer_does_not(admin_user: User, viewer: User, client_for: ClientFor) -> None:
    v = make_vault(account=make_account(), name="Vault 1")
    url = reverse("vaults:detail", args=[v.pk])
    assert reverse("vaults:settings", args=[v.pk]) in client_for(admin_user).get(url).content.decode()
    assert reverse("vaults:settings", args=[v.pk]) not in client_for(viewer).get(url).content.decode()


def test_admin_sets_classification_and_owner_and_it_is_audited(admin_user: User, team_lead: User, client_for: ClientFor) -> None:
    v = make_vault(account=make_account(), name="Vault 1")
    response = client_for(admin_user).post(
        reverse("vaults:settings", args=[v.pk]), {"classification": "production", "owner": team_lead.pk}
    )
    assert response.status_code == 302
    v.refresh_from_db()
    assert v.classification == "production" and v.owner == team_lead
    assert v.classification_set_by_person is True
    entry = AuditLogEntry.objects.get(action="vault.settings_changed")
    assert entry.target_id == str(v.pk) and entry.actor == admin_user
    assert entry.details["after"] == {"classification": "production", "owner": team_lead.username}
    assert entry.details["before"]["classification"] == "unclassified"


def test_owner_must_be_a_team_lead(admin_user: User, viewer: User, client_for: ClientFor) -> None:
    v = make_vault(account=make_account(), name="Vault 1")
    client_for(admin_user).post(reverse("vaults:settings", args=[v.pk]), {"classification": "shared", "owner": viewer.pk})
    v.refresh_from_db()
    assert v.owner is None and v.classification == "unclassified"
    assert not AuditLogEntry.objects.filter(action="vault.settings_changed").exists()


@pytest.mark.parametrize("persona", ["viewer", "team_lead", "auditor", "compliance_officer"])
def test_only_admins_may_change_vault_settings(persona: str, request: pytest.FixtureRequest, client_for: ClientFor) -> None:
    v = make_vault(account=make_account(), name="Vault 1")
    response = client_for(request.getfixturevalue(persona)).post(
        reverse("vaults:settings", args=[v.pk]), {"classification": "production"}
    )
    assert response.status_code == 403
    v.refresh_from_db()
    assert v.classification == "unclassified" and not v.classification_set_by_person


def test_vault_settings_refuses_get(admin_user: User, client_for: ClientFor) -> None:
    v = make_vault(account=make_account(), name="Vault 1")
    assert client_for(admin_user).get(reverse("vaults:settings", args=[v.pk])).status_code == 405


# --- item detail ------------------------------------------------------------------------------------


def test_item_detail_shows_metadata_strength_usage_and_who_can_reach_it(client: Client) -> None:
    org = _org(2)
    it = org["item"]
    body = client.get(reverse("vaults:item", args=[it.pk])).content.decode()
    assert "1 / 4" in body and "Weak" in body  # zxcvbn and op label
    assert org["person"].name in body  # direct grant holder
    assert "Group: Engineers" in body
    assert "Who used it" in body and "1 usage event" in body


def test_item_detail_links_only_web_urls(client: Client) -> None:
    v = make_vault(account=make_account(), name="Vault 1")
    it = make_item(vault=v, title="Item 1", category="LOGIN", tags=[], has_notes=False,
                   op_created_at=None, op_updated_at=None, urls=[
        {"href": "https://ok.example/login"},
        {"href": "javascript:alert(1)"},
        {"href": "data:text/html,<script>alert(1)</script>"},
        {"href": "ftp://files.example"},
    ])
    body = client.get(reverse("vaults:item", args=[it.pk])).content.decode()
    assert 'href="https://ok.example/login" rel="noopener noreferrer nofollow"' in body
    assert 'href="javascript:' not in body and 'href="data:' not in body and 'href="ftp:' not in body
    assert "javascript:alert(1)" in body  # shown as text
    assert "<script>alert(1)</script>" not in body


def test_item_detail_never_shows_notes_text_or_values(client: Client) -> None:
    v = make_vault(account=make_account(), name="Vault 1")
    it = make_item(vault=v, title="Item 1", category="LOGIN", tags=[], urls=[], has_notes=True,
                   op_created_at=None, op_updated_at=None)
    make_secret(item=it, label="password", purpose="PASSWORD", fingerprint="f" * 64, zxcvbn_score=4, length=24,
                strength="", history_count=3, changed_at=None)
    body = client.get(reverse("vaults:item", args=[it.pk])).content.decode()
    assert "Yes" in body and "text is never synced" in body
    assert "f" * 64 not in body  # not even the fingerprint


def test_item_detail_lists_findings_about_the_item_including_group_findings(client: Client) -> None:
    acct = make_account()
    v = make_vault(account=acct, name="Vault 1")
    it = make_item(vault=v, title="Item 1", category="LOGIN", tags=[], urls=[], has_notes=False,
                   op_created_at=None, op_updated_at=None)
    direct = make_finding(account=acct, item=it, title="Weak password on this item")
    group = make_finding(account=acct, kind=Finding.Kind.DUPLICATE, title="Same secret on 3 items")
    group.related_items.add(it)
    make_finding(account=acct, item=it, title="Old resolved one", status=Finding.Status.RESOLVED)
    body = client.get(reverse("vaults:item", args=[it.pk])).content.decode()
    assert direct.title in body and group.title in body
    assert "Old resolved one" not in body


def test_item_detail_queries_do_not_grow_with_rows(client: Client, django_assert_max_num_queries: Callable) -> None:
    small_org = _org(2)
    small = _queries(client, reverse("vaults:item", args=[small_org["item"].pk]))
    big_org = _org(7)
    with django_assert_max_num_queries(small):
        response = client.get(reverse("vaults:item", args=[big_org["item"].pk]))
    assert response.status_code == 200 and big_org["item"].title in response.content.decode()


# --- people -----------------------------------------------------------------------------------------


def test_person_detail_shows_groups_vaults_with_paths_usage_and_findings(client: Client) -> None:
    org = _org(2)
    person = org["person"]
    make_finding(account=org["account"], kind=Finding.Kind.OVER_PERMISSIONED, op_user=person, title="Too many rights")
    body = client.get(reverse("vaults:person", args=[person.pk])).content.decode()
    assert "Engineers" in body
    assert org["vault"].name in body and "Direct grant" in body and "Group: Engineers" in body
    assert "Too many rights" in body


def test_people_list_searches_by_name_or_email(client: Client) -> None:
    acct = make_account()
    make_op_user(account=acct, name="Alice Admin", email="alice@example.com")
    make_op_user(account=acct, name="Bob Builder", email="bob@example.com")
    body = client.get(reverse("vaults:people"), {"q": "alice@"}).content.decode()
    assert "Alice Admin" in body and "Bob Builder" not in body
    assert client.get(reverse("vaults:people"), {"state": "WHATEVER"}).status_code == 400


def test_people_list_htmx_returns_the_table_only(client: Client) -> None:
    make_op_user(account=make_account(), name="Carol")
    body = client.get(reverse("vaults:people"), headers={"HX-Request": "true"}).content.decode()
    assert "Carol" in body and "<html" not in body


def test_people_pages_queries_do_not_grow_with_rows(client: Client, django_assert_max_num_queries: Callable) -> None:
    small_org = _org(2)
    small_list = _queries(client, reverse("vaults:people"))
    small_person = _queries(client, reverse("vaults:person", args=[small_org["person"].pk]))
    big_org = _org(7)
    with django_assert_max_num_queries(small_list):
        people = client.get(reverse("vaults:people"))
    with django_assert_max_num_queries(small_person):
        person = client.get(reverse("vaults:person", args=[big_org["person"].pk]))
    assert people.status_code == 200 and "User 6" in people.content.decode()
    assert person.status_code == 200 and "Vault 6" in person.content.decode()


# --- hostile content ----------------------------------------------------------------------------------


@pytest.mark.parametrize("hostile", [SCRIPT, IMG])
def test_hostile_names_are_escaped_on_every_page(client: Client, hostile: str) -> None:
    acct = make_account(name=f"acct {hostile}")
    v = make_vault(account=acct, name=hostile, description=hostile)
    it = make_item(vault=v, title=hostile, category="LOGIN", tags=[hostile], urls=[{"href": hostile, "label": hostile}],
                   has_notes=False, op_created_at=None, op_updated_at=None,
                   field_labels=[{"label": hostile, "type": hostile, "section": hostile}])
    make_secret(item=it, label=hostile, purpose="PASSWORD", zxcvbn_score=2, length=None, strength="",
                fingerprint=None, changed_at=None)
    person = make_op_user(account=acct, name=hostile, email=hostile)
    grp = make_op_group(account=acct, name=hostile, state="")
    add_member(group=grp, user=person)
    grant(vault=v, group=grp, permissions=[hostile])
    make_usage(account=acct, user=person, item=it, action="fill")
    make_finding(account=acct, item=it, vault=v, op_user=person, title=hostile, explanation=hostile)
    make_snapshot(account=acct, score=40, vault=v)
    urls = [reverse("vaults:list"), reverse("vaults:people"), reverse("vaults:detail", args=[v.pk]),
            reverse("vaults:item", args=[it.pk]), reverse("vaults:person", args=[person.pk])]
    for url in urls:
        body = client.get(url).content.decode()
        assert "<script>alert" not in body, url
        assert "<img src=x" not in body, url
        assert "&lt;" in body or "&quot;" in body or "&#x27;" in body, url


def test_a_10kb_title_is_truncated_in_tables_and_shown_whole_only_on_request(client: Client) -> None:
    title = "A" * 10_240
    v = make_vault(account=make_account(), name="Big vault")
    it = make_item(vault=v, title=title, category="LOGIN", tags=[], urls=[], has_notes=False,
                   op_created_at=None, op_updated_at=None)
    listing = client.get(reverse("vaults:detail", args=[v.pk])).content.decode()
    assert title not in listing and "A" * 119 + "…" in listing
    detail = client.get(reverse("vaults:item", args=[it.pk])).content.decode()
    assert detail.count(title) == 1  # once, inside the collapsed <details>
    assert "Full title (10,240 characters)" in detail
    assert "<title>" + "A" * 59 + "…" in detail
