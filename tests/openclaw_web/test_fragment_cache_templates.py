"""The lighter hot templates (issue #17 item 5): one vault choice list for every findings URL,
paginated access tables, links built from one reversed prefix. Each still shows what it did."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.conftest import TEST_CACHE_REDIS_URL
from tests.vaults.factories import grant, make_account, make_finding, make_item, make_op_user, make_sync_run, make_vault
from vaults.models import Vault
from vaults.views.vaults import ACCESS_ROWS

LIST = reverse("findings:list")


@pytest.fixture(autouse=True)
def redis_cache(settings) -> Iterator[None]:
    settings.CACHES = {"default": {"BACKEND": "openclaw_web.cache_backend.ReusedClientRedisCache",
                                   "LOCATION": TEST_CACHE_REDIS_URL}}  # fmt: skip
    client = redis.Redis.from_url(TEST_CACHE_REDIS_URL)
    client.flushdb()
    yield
    client.flushdb()


@pytest.fixture
def vaults(transactional_db) -> tuple[Vault, Vault]:
    account = make_account(name="acme")
    return make_vault(account=account, name="Alpha Ops"), make_vault(account=account, name="Beta Payments")


def _vault_list_queries(client, path: str) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as captured:
        page = client.get(path).text
    choice_list = 'SELECT "vaults_vault"."id" AS "pk", "vaults_vault"."name" AS "name" FROM "vaults_vault"'
    listing = [q for q in captured.captured_queries if q["sql"].startswith(choice_list) and "LIMIT" not in q["sql"]]
    return page, len(listing)


def test_the_vault_choice_list_is_built_once_for_every_findings_url_and_marks_the_chosen_vault(
    client_for, viewer, vaults
) -> None:
    alpha, beta = vaults
    client = client_for(viewer)

    first, first_lists = _vault_list_queries(client, LIST + f"?vault={beta.pk}")
    other, other_lists = _vault_list_queries(client, LIST + f"?vault={alpha.pk}&severity=high")

    assert first_lists == 1 and other_lists == 0  # a new URL, the same list
    assert f'<option value="{beta.pk}" selected>Beta Payments</option>' in first
    assert f'<option value="{alpha.pk}">Alpha Ops</option>' in first  # decoy: not chosen, not marked
    assert f'<option value="{alpha.pk}" selected>Alpha Ops</option>' in other
    assert f'<option value="{beta.pk}">Beta Payments</option>' in other


def test_a_vault_renamed_by_a_sync_shows_in_the_choice_list_once_the_sync_ends(client_for, viewer, vaults) -> None:
    alpha, _ = vaults
    client = client_for(viewer)
    assert "Alpha Operations" not in client.get(LIST).text
    Vault.objects.filter(pk=alpha.pk).update(name="Alpha Operations")

    make_sync_run(account=alpha.account, finished_at=timezone.now())

    assert f'<option value="{alpha.pk}">Alpha Operations</option>' in client.get(LIST + "?severity=low").text


def test_a_hostile_vault_name_is_escaped_in_the_choice_list(client_for, viewer, vaults) -> None:
    alpha, _ = vaults
    Vault.objects.filter(pk=alpha.pk).update(name='</option><script>alert(1)</script>')

    page = client_for(viewer).get(LIST).text

    assert "<script>alert(1)</script>" not in page and "&lt;/option&gt;&lt;script&gt;" in page


def test_a_large_access_table_shows_its_first_rows_and_offers_all(client_for, viewer, vaults) -> None:
    alpha, beta = vaults
    people = [make_op_user(account=alpha.account, name=f"Person {n:03d}") for n in range(ACCESS_ROWS + 5)]
    for person in people:
        grant(vault=alpha, user=person)
    grant(vault=beta, user=people[0])
    client = client_for(viewer)

    page = client.get(reverse("vaults:detail", args=[alpha.pk])).text
    everyone = client.get(reverse("vaults:detail", args=[alpha.pk]) + "?access=all").text
    small = client.get(reverse("vaults:detail", args=[beta.pk])).text

    person_links = [reverse("vaults:person", args=[p.pk]) for p in people]
    assert sum(link in page for link in person_links) == ACCESS_ROWS
    assert f"{ACCESS_ROWS} of {ACCESS_ROWS + 5} people shown" in page and "?access=all" in page
    assert all(link in everyone for link in person_links) and "data-access-shown" not in everyone
    assert "data-access-shown" not in small  # decoy: one person, nothing to hide


def test_row_links_built_from_a_prefix_are_the_reversed_urls(client_for, viewer, vaults) -> None:
    alpha, _ = vaults
    item = make_item(vault=alpha, title="Deploy key")
    finding = make_finding(account=alpha.account, vault=alpha, title="Weak deploy key")

    vault_page = client_for(viewer).get(reverse("vaults:detail", args=[alpha.pk])).text
    findings_page = client_for(viewer).get(LIST).text

    assert f'href="{reverse("vaults:item", args=[item.pk])}"' in vault_page
    assert f'href="{reverse("findings:detail", args=[finding.pk])}"' in findings_page
