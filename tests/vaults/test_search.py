"""One search over items, vaults, people, groups and findings (issue #15, vaults/search.py), on
PostgreSQL with pg_trgm: word order free, typo tolerant, scoped like the pages, never a secret."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.security.canaries import planted_secrets
from tests.security.planted import bearer_for
from tests.vaults.factories import (
    add_member,
    make_account,
    make_finding,
    make_item,
    make_op_group,
    make_op_user,
    make_secret,
    make_vault,
)
from vaults import search, sync
from vaults.findings.models import Finding
from vaults.models import Item, SyncRun, Vault

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User], Client]
PROD_KEY = "Stripe Production Access Key"


@pytest.fixture
def org() -> dict[str, Any]:
    account = make_account(name="Acme")
    payments = make_vault(account=account, name="Payments")
    platform = make_vault(account=account, name="Platform Production")
    rows = {
        "account": account,
        "payments": payments,
        "platform": platform,
        "prod_key": make_item(vault=payments, title=PROD_KEY, tags=["billing"]),
        "staging_key": make_item(vault=payments, title="Stripe Staging Key"),
        "sentry": make_item(vault=payments, title="Sentry Production DSN",
                            urls=[{"label": "website", "href": "https://sentry.acme-internal.io/org", "primary": True}]),
        "twilio_in_prod_vault": make_item(vault=platform, title="Twilio Auth Token", tags=[]),
        "archived": make_item(vault=payments, title="Stripe Production Old Key", archived=True),
    }  # fmt: skip
    dana = make_op_user(account=account, name="Dana Developer", email="dana@acme.test")
    add_member(group=make_op_group(account=account, name="Payments Engineers"), user=dana)
    rows["finding"] = make_finding(account=account, kind=Finding.Kind.WEAK, title=f"Weak secret in {PROD_KEY}",
                                   vault=payments, item=rows["prod_key"], search_text="weak weak secret stripe production access key payments")  # fmt: skip
    return rows


def labels(results: search.SearchResults, kind: str) -> list[str]:
    return [hit.label for group in results.groups if group.kind == kind for hit in group.hits]


def test_it_finds_an_item_by_words_in_any_order(org, viewer):
    for query in ("stripe prod", "prod stripe", "STRIPE production", "access stripe"):
        assert labels(search.search(viewer, query), "items") == [PROD_KEY], query


def test_it_forgives_a_typo_in_each_word(org, viewer):
    assert PROD_KEY in labels(search.search(viewer, "strpe"), "items")
    assert labels(search.search(viewer, "strpe prodction"), "items") == [PROD_KEY]


def test_a_staging_item_does_not_match_prod(org, viewer):
    found = labels(search.search(viewer, "stripe prod"), "items")
    assert "Stripe Staging Key" not in found
    assert "Stripe Staging Key" in labels(search.search(viewer, "stripe"), "items")  # decoy: it is searchable


def test_unrelated_words_find_nothing(org, viewer):
    assert search.search(viewer, "kubernetes").groups == []
    assert search.search(viewer, "stripe kubernetes").groups == []


def test_a_word_can_match_the_items_vault_name(org, viewer):
    assert labels(search.search(viewer, "twilio production"), "items") == ["Twilio Auth Token"]
    assert labels(search.search(viewer, "twilio payments"), "items") == []


def test_url_hosts_and_tags_are_searchable(org, viewer):
    assert labels(search.search(viewer, "acme-internal"), "items") == ["Sentry Production DSN"]
    assert labels(search.search(viewer, "billing"), "items") == [PROD_KEY]


def test_archived_items_and_removed_vaults_are_left_out_like_on_the_pages(org, viewer):
    found = labels(search.search(viewer, "stripe production"), "items")
    assert "Stripe Production Old Key" not in found and PROD_KEY in found
    Vault.objects.filter(pk=org["platform"].pk).update(removed_at=org["finding"].first_seen)
    assert search.search(viewer, "twilio").groups == []


def test_every_kind_is_found_and_grouped(org, viewer):
    results = search.search(viewer, "payments")
    kinds = {group.kind for group in results.groups}
    assert {"vaults", "groups", "findings", "items"} <= kinds
    assert labels(search.search(viewer, "dana"), "people") == ["Dana Developer"]
    assert labels(search.search(viewer, "dana@acme"), "people") == ["Dana Developer"]
    assert labels(search.search(viewer, "paymnts engineers"), "groups") == ["Payments Engineers"]
    assert labels(search.search(viewer, "weak stripe"), "findings") == [f"Weak secret in {PROD_KEY}"]


def test_the_best_match_comes_first(org, viewer):
    make_item(vault=org["payments"], title="Stripe Productivity Board Key")
    assert labels(search.search(viewer, "stripe production"), "items")[0] == PROD_KEY


def test_a_person_without_inventory_access_finds_nothing(org, make_user, client_for):
    nobody = make_user("no_role")
    assert search.search(nobody, "stripe").groups == []
    assert client_for(nobody).get(reverse("search"), {"q": "stripe"}).status_code == 403


def test_a_team_lead_is_shown_only_what_their_pages_show(org, team_lead, client_for):
    """Inventory pages show every live vault's metadata to every role (docs/security.md); search
    shows no more: every hit opens for the lead, and what the pages hide (archived) stays hidden."""
    client = client_for(team_lead)
    results = search.search(team_lead, "stripe")
    urls = [hit.url for group in results.groups for hit in group.hits if hit.url]
    assert urls
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert "Stripe Production Old Key" not in labels(results, "items")


def test_secret_fingerprints_are_not_searchable(org, viewer):
    fingerprint = "ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12"
    make_secret(item=org["prod_key"], fingerprint=fingerprint)
    assert search.search(viewer, fingerprint[:16]).groups == []
    assert search.search(viewer, "stripe").groups  # decoy: the item itself is found


def test_no_planted_secret_value_is_ever_found(fake_org, viewer):
    account = fake_org.add_account()
    started, _ = sync.start_sync(account=account)
    assert sync.run_sync(sync_run_id=started.pk).status == SyncRun.Status.SUCCEEDED
    secrets = [s for s in planted_secrets(fake_org.data) if s.startswith("CANARY-")]
    assert secrets
    for secret in secrets[:40]:
        for query in (secret, secret.removeprefix("CANARY-")[:16], secret[-10:]):
            assert search.search(viewer, query).groups == [], query
    title = Item.objects.filter(removed_at__isnull=True, archived=False).order_by("pk").first().title
    assert search.search(viewer, title).groups  # decoy: the synced items are searchable


def test_the_page_groups_hits_and_escapes_hostile_titles(org, viewer, client_for):
    make_item(vault=org["payments"], title="<script>alert(1)</script> Stripe Hostile")
    make_item(vault=org["payments"], title="Stripe \u202egnp.exe Invoice")
    response = client_for(viewer).get(reverse("search"), {"q": "stripe"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "\u202e" not in html and "hidden characters" in html
    assert html.index('id="search-items"') < html.index('id="search-findings"')
    assert PROD_KEY in html and "Stripe Staging Key" in html


def test_the_page_says_when_a_query_is_too_short_or_matches_nothing(org, viewer, client_for):
    client = client_for(viewer)
    assert "at least two letters" in client.get(reverse("search"), {"q": "a b"}).content.decode()
    assert "Nothing matches" in client.get(reverse("search"), {"q": "kubernetes"}).content.decode()
    assert client.get(reverse("search"), {"q": "x", "type": "secrets"}).status_code == 400


def test_show_more_narrows_the_page_to_one_kind(org, viewer, client_for):
    for n in range(12):
        make_item(vault=org["payments"], title=f"Stripe Webhook {n}")
    client = client_for(viewer)
    html = client.get(reverse("search"), {"q": "stripe"}).content.decode()
    assert "Show more items" in html
    one_kind = client.get(reverse("search"), {"q": "stripe", "type": "items"}).content.decode()
    assert one_kind.count("Stripe Webhook") == 12 and 'id="search-vaults"' not in one_kind


def test_every_signed_in_page_has_the_search_box_and_its_script(org, viewer, client_for):
    html = client_for(viewer).get(reverse("vaults:list")).content.decode()
    assert 'action="/search/"' in html and "data-search-shortcut" in html and "js/search-shortcut" in html


def test_the_items_api_filters_by_q(org, admin_user):
    api = Client(headers=bearer_for(admin_user))
    titles = [r["title"] for r in api.get("/api/v1/items", {"q": "prod strpe"}).json()["results"]]
    assert titles == [PROD_KEY]
    everything = [r["title"] for r in api.get("/api/v1/items").json()["results"]]
    assert "Stripe Staging Key" in everything and len(everything) > 1


def test_the_search_api_returns_grouped_hits(org, viewer):
    api = Client(headers=bearer_for(viewer))
    body = api.get("/api/v1/search", {"q": "payments"}).json()
    groups = {g["type"]: g for g in body["groups"]}
    assert groups["vaults"]["hits"][0]["label"] == "Payments"
    assert groups["vaults"]["hits"][0]["url"] == reverse("vaults:detail", args=[org["payments"].pk])
    only_people = api.get("/api/v1/search", {"q": "dana", "type": "people"}).json()
    assert [g["type"] for g in only_people["groups"]] == ["people"]
    assert api.get("/api/v1/search", {"q": "dana", "type": "secrets"}).status_code == 422


def test_sqlite_fallback_matches_substrings_and_one_edit(org, viewer):
    document = "stripe production access key payments"
    assert search.fallback_word_matches("prod", document) == 1.0
    assert search.fallback_word_matches("strpe", document) == 0.5  # a dropped letter
    assert search.fallback_word_matches("stirpe", document) == 0.5  # two letters swapped
    assert search.fallback_word_matches("strxxe", document) == 0.0  # two edits: no
    assert search.fallback_word_matches("stg", document) == 0.0  # short words are not fuzzed
    matcher = search._FallbackMatcher(("stripe", "prod"))
    pks, total = matcher.rank("items")
    assert pks == [org["prod_key"].pk] and total == 1
    assert search._FallbackMatcher(("twilio", "production")).rank("items")[0] == [org["twilio_in_prod_vault"].pk]


def test_a_two_letter_word_matches_the_start_of_a_word(org, viewer):
    make_item(vault=org["payments"], title="Okta Token 77")
    make_item(vault=org["payments"], title="Okta Token 1770")  # decoy: "77" inside a word
    assert labels(search.search(viewer, "okta 77"), "items") == ["Okta Token 77"]
    assert search.search(viewer, "a").too_short and not search.search(viewer, "a").groups
