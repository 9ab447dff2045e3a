"""The usage audit: "who used the production API keys in January?" for any filter, on the page, in
the API and in exports; old usage kept as daily counts; the first Events API read reaching 400 days."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from tests.security.planted import bearer_for
from tests.vaults import factories
from tests.vaults.factories import make_account, make_item, make_op_group, make_op_user, make_vault
from vaults.events import sync_events
from vaults.fake_op import account as fake_account
from vaults.models import Account, Item, ItemUsage, ItemUsageDaily, OpUser, Vault
from vaults.usage_audit import UsageFilter, counts_per_item, counts_per_person, coverage, events, summary, timeline
from vaults.usage_retention import summarise_old_usage

pytestmark = pytest.mark.django_db

JANUARY = "classification=production&tag=api-key&start=2026-01-01&end=2026-01-31"
HOSTILE = '=HYPERLINK("http://evil.example/x","Click")'


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def use(account: Account, user: OpUser, item: Item, when: datetime, action: str = "reveal", **fields: Any) -> ItemUsage:
    row = factories.make_usage(account=account, user=user, item=item, when=when, action=action)
    if fields:
        ItemUsage.objects.filter(pk=row.pk).update(**fields)
        row.refresh_from_db()
    return row


@dataclass
class Org:
    account: Account
    prod: Vault
    stripe: Item
    payments: Item
    prod_db: Item
    staging_key: Item
    alice: OpUser
    bob: OpUser
    carol: OpUser
    january: set[str]  # uuids of the uses the January question must return, and only those


@pytest.fixture
def org() -> Org:
    account = make_account(name="Acme", events_url="http://events.invalid", events_token_env="OP_EVENTS_TOKEN")
    prod = make_vault(account=account, name="Production", classification=Vault.Classification.PRODUCTION)
    staging = make_vault(account=account, name="Staging", classification=Vault.Classification.NON_PRODUCTION)
    stripe = make_item(vault=prod, title="Stripe live secret key", tags=["api-key", "payments"])
    payments = make_item(vault=prod, title="Adyen API credential", tags=["api-key"])
    prod_db = make_item(vault=prod, title="Orders DB password", tags=["database"])
    staging_key = make_item(vault=staging, title="Stripe test secret key", tags=["api-key"])
    alice = make_op_user(account=account, name="Alice Ops", email="alice@example.com")
    bob = make_op_user(account=account, name="Bob Billing", email="bob@example.com")
    carol = make_op_user(account=account, name="Carol Contractor", email="carol@example.com")
    planted = [
        use(account, alice, stripe, at(2026, 1, 1, 0, 0, 0)),  # first second of the range
        use(account, alice, stripe, at(2026, 1, 20, 9, 30), "secure-copy"),
        use(account, bob, payments, at(2026, 1, 31, 23, 59, 59), "fill"),  # last second of the range
    ]
    # Decoys: the same keys outside January, a staging key in January, another production item.
    use(account, carol, stripe, at(2026, 2, 1, 0, 0, 0))
    use(account, bob, stripe, at(2025, 12, 31, 23, 59, 59))
    use(account, alice, staging_key, at(2026, 1, 10, 12, 0))
    use(account, carol, prod_db, at(2026, 1, 15, 8, 0))
    return Org(account, prod, stripe, payments, prod_db, staging_key, alice, bob, carol, {u.uuid for u in planted})


def page(client: Client, query: str) -> Any:
    response = client.get(f"/usage/?{query}")
    assert response.status_code == 200, response.content[:300]
    return response


def page_uuids(response: Any) -> set[str]:
    return {row.event.uuid for row in response.context["events"]}


# --- the question ------------------------------------------------------------------------------


def test_production_api_keys_in_january_returns_exactly_the_january_uses(org: Org) -> None:
    f = UsageFilter(classification="production", tag="api-key", start=date(2026, 1, 1), end=date(2026, 1, 31))

    assert set(events(f).values_list("uuid", flat=True)) == org.january


def test_the_question_is_one_bookmarkable_url_on_the_page(org: Org, viewer: Any, client_for: Callable[..., Client]) -> None:
    response = page(client_for(viewer), JANUARY)

    assert page_uuids(response) == org.january
    assert b"Stripe live secret key" in response.content
    assert b"Stripe test secret key" not in response.content  # the staging decoy


def test_a_title_filter_narrows_like_the_tag(org: Org) -> None:
    f = UsageFilter(classification="production", title="stripe", start=date(2026, 1, 1), end=date(2026, 1, 31))

    assert {e.item_op_id for e in events(f)} == {org.stripe.op_id}


def test_a_person_filter_leaves_out_other_peoples_uses(org: Org) -> None:
    f = UsageFilter(person=org.alice, start=date(2026, 1, 1), end=date(2026, 1, 31))

    assert {(e.user_op_id, e.item_op_id) for e in events(f)} == {(org.alice.op_id, org.stripe.op_id),
                                                               (org.alice.op_id, org.staging_key.op_id)}  # fmt: skip
    assert events(f).count() == 3


def test_a_group_filter_uses_its_current_members(org: Org) -> None:
    payments_team = make_op_group(account=org.account, name="Payments", members=[org.bob, org.carol])
    f = UsageFilter(group=payments_team, start=date(2026, 1, 1), end=date(2026, 2, 28))

    assert {e.user_op_id for e in events(f)} == {org.bob.op_id, org.carol.op_id}


def test_action_country_and_ip_filters(org: Org) -> None:
    copied = events(UsageFilter(action="secure-copy", start=date(2026, 1, 1), end=date(2026, 1, 31)))
    assert [e.user_op_id for e in copied] == [org.alice.op_id]

    far = use(org.account, org.alice, org.stripe, at(2026, 1, 3), client_ip="198.51.100.7", country="BR")
    use(org.account, org.alice, org.stripe, at(2026, 1, 4), client_ip="198.51.1.7", country="DE")  # prefix decoy
    january = UsageFilter(start=date(2026, 1, 1), end=date(2026, 1, 31))
    assert [e.uuid for e in events(replace(january, country="br"))] == [far.uuid]
    assert [e.uuid for e in events(replace(january, ip="198.51.100."))] == [far.uuid]
    assert [e.uuid for e in events(replace(january, ip="198.51.100.7"))] == [far.uuid]


def test_counts_per_person_and_per_item_are_exact(org: Org) -> None:
    f = UsageFilter(classification="production", tag="api-key", start=date(2026, 1, 1), end=date(2026, 1, 31))

    assert [(r.label, r.count) for r in counts_per_person(f)] == [("Alice Ops", 2), ("Bob Billing", 1)]
    assert [(r.label, r.count) for r in counts_per_item(f)] == [("Stripe live secret key", 2), ("Adyen API credential", 1)]
    assert [r.pk for r in counts_per_item(f)] == [org.stripe.pk, org.payments.pk]


def test_a_person_without_a_name_is_labelled_by_the_e_mail_once(org: Org, viewer: Any,
                                                               client_for: Callable[..., Client]) -> None:
    OpUser.objects.filter(pk=org.bob.pk).update(name="")
    f = UsageFilter(classification="production", tag="api-key", start=date(2026, 1, 1), end=date(2026, 1, 31))

    rows = {r.op_id: (r.label, r.detail) for r in counts_per_person(f)}
    assert rows[org.bob.op_id] == ("bob@example.com", "")
    assert rows[org.alice.op_id] == ("Alice Ops", "alice@example.com")  # the decoy: a name, and the e-mail under it
    content = page(client_for(viewer), JANUARY).content.decode()
    people = content[content.index('id="people-h"'):content.index('id="items-h"')]
    assert people.count("bob@example.com") == 1 and people.count("alice@example.com") == 1


def test_the_timeline_counts_each_day_and_is_zero_filled(org: Org) -> None:
    f = UsageFilter(classification="production", tag="api-key", start=date(2026, 1, 1), end=date(2026, 1, 31))

    line = timeline(f)

    assert line.bucket == "day" and len(line.points) == 31
    assert {d: n for d, n in line.points if n} == {date(2026, 1, 1): 1, date(2026, 1, 20): 1, date(2026, 1, 31): 1}


def test_a_year_is_charted_per_week_starting_mondays(org: Org) -> None:
    line = timeline(UsageFilter(start=date(2025, 7, 1), end=date(2026, 6, 30)))

    assert line.bucket == "week"
    assert all(d.weekday() == 0 for d, _ in line.points)
    assert line.total == ItemUsage.objects.count() == 7


@pytest.mark.parametrize("span", [(date(2026, 1, 1), date(2026, 1, 31)), (date(2025, 7, 1), date(2026, 6, 30)), (None, None)])
def test_the_one_scan_summary_equals_the_separate_counts(org: Org, span: tuple[date | None, date | None]) -> None:
    use(org.account, org.carol, org.payments, at(2026, 1, 5))  # a tie: Carol and Bob one use each
    f = UsageFilter(start=span[0], end=span[1])

    answer = summary(f, limit=2)

    assert answer.people == counts_per_person(f, limit=2)
    assert answer.items == counts_per_item(f, limit=2)
    assert answer.timeline == timeline(f)
    assert [r.count for r in summary(f).people] == [r.count for r in counts_per_person(f)] != []


def test_the_one_scan_over_raw_events_breaks_ties_as_the_separate_counts(org: Org) -> None:
    """A country filter reads raw events, always in the one scan: its top N must cut a tie where
    the separate GROUP BYs cut it (account, then op id in byte order)."""
    use(org.account, org.carol, org.payments, at(2026, 1, 5))
    use(org.account, org.carol, org.stripe, at(2026, 1, 6))  # Carol ties with the first
    ItemUsage.objects.update(country="DE")
    f = UsageFilter(country="DE", start=date(2026, 1, 1), end=date(2026, 1, 31))

    for limit in (1, 2, 3):
        answer = summary(f, limit=limit)
        assert answer.people == counts_per_person(f, limit=limit), limit
        assert answer.items == counts_per_item(f, limit=limit), limit
    everyone = [r.count for r in counts_per_person(f, limit=None)]
    assert len(everyone) == 3 and everyone[0] == everyone[1]  # limit 1 cuts through the tie


def test_an_invalid_filter_is_a_400(org: Org, viewer: Any, client_for: Callable[..., Client]) -> None:
    client = client_for(viewer)
    assert client.get("/usage/?start=2026-02-01&end=2026-01-01").status_code == 400
    assert client.get("/usage/?ip=evil.example").status_code == 400
    assert client.get("/usage/?action=steal").status_code == 400
    assert client.get("/usage/?format=pdf").status_code == 400


def test_the_page_escapes_a_hostile_title(org: Org, viewer: Any, client_for: Callable[..., Client]) -> None:
    Item.objects.filter(pk=org.stripe.pk).update(title="<script>alert(1)</script>")

    content = page(client_for(viewer), JANUARY).content.decode()

    assert "<script>alert(1)" not in content and "&lt;script&gt;alert(1)" in content


# --- the API gives what the page gives ------------------------------------------------------------


@pytest.mark.parametrize("query", [JANUARY, "start=2026-01-01&end=2026-02-28&action=reveal", "start=2025-12-01&end=2026-02-28"])
def test_the_api_answers_the_same_filter_as_the_page(org: Org, admin_user: Any, client_for: Callable[..., Client],
                                                     query: str) -> None:  # fmt: skip
    on_page = page(client_for(admin_user), query)
    api = Client(headers=bearer_for(admin_user)).get(f"/api/v1/usage?{query}&counts=true")

    assert api.status_code == 200, api.content[:300]
    body = api.json()
    assert {e["id"] for e in body["results"]} == {row.event.pk for row in on_page.context["events"]}
    assert [(r["op_id"], r["uses"]) for r in body["counts"]["per_person"]] == [(r.op_id, r.count) for r in on_page.context["people"]]
    assert body["counts"]["total"] == on_page.context["timeline"].total


def test_the_api_answers_the_january_question_with_person_and_group_ids(org: Org, admin_user: Any) -> None:
    api = Client(headers=bearer_for(admin_user))
    body = api.get(f"/api/v1/usage?{JANUARY}&person={org.alice.pk}").json()

    assert {e["item_title"] for e in body["results"]} == {"Stripe live secret key"}
    assert len(body["results"]) == 2
    assert api.get("/api/v1/usage?start=2026-02-01&end=2026-01-01").status_code == 400


def test_the_api_pages_with_a_cursor(org: Org, admin_user: Any) -> None:
    api = Client(headers=bearer_for(admin_user))
    first = api.get("/api/v1/usage?start=2025-12-01&end=2026-02-28&limit=4").json()
    second = api.get(f"/api/v1/usage?start=2025-12-01&end=2026-02-28&limit=4&cursor={first['next_cursor']}").json()

    ids = [e["id"] for e in first["results"] + second["results"]]
    assert len(ids) == len(set(ids)) == 7 and second["next_cursor"] is None
    stamps = [e["timestamp"] for e in first["results"] + second["results"]]
    assert stamps == sorted(stamps, reverse=True)


# --- exports ----------------------------------------------------------------------------------


def _export(client: Client, query: str, fmt: str) -> bytes:
    response = client.get(f"/usage/?{query}&format={fmt}")
    assert response.status_code == 200
    return b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]


def test_the_csv_export_escapes_a_hostile_title_and_lists_the_filtered_uses(org: Org, auditor: Any,
                                                                           client_for: Callable[..., Client]) -> None:  # fmt: skip
    Item.objects.filter(pk=org.stripe.pk).update(title=HOSTILE)

    rows = list(csv.reader(io.StringIO(_export(client_for(auditor), JANUARY, "csv").decode())))

    events_rows = [r for r in rows if len(r) > 2 and r[1] == "event"]
    assert len(events_rows) == 3
    assert {r[6] for r in events_rows} == {"'" + HOSTILE, "Adyen API credential"}  # decoy: a plain title untouched
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert rows[0][0] == "coverage"


def test_the_xlsx_export_holds_no_formula(org: Org, auditor: Any, client_for: Callable[..., Client]) -> None:
    Item.objects.filter(pk=org.stripe.pk).update(title=HOSTILE)

    sheet = load_workbook(io.BytesIO(_export(client_for(auditor), JANUARY, "xlsx"))).active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]

    assert "'" + HOSTILE in {c.value for c in cells}
    assert all(c.data_type != "f" for c in cells)
    assert sum(1 for row in sheet.iter_rows(values_only=True) if row[1] == "event") == 3


def test_an_export_is_in_the_audit_log(org: Org, auditor: Any, client_for: Callable[..., Client]) -> None:
    from compliance.models import AuditLogEntry

    _export(client_for(auditor), JANUARY, "csv")

    entry = AuditLogEntry.objects.get(action="usage.exported")
    assert entry.details["format"] == "csv" and "tag=api-key" in entry.details["query"]


# --- retention: old usage becomes daily counts ------------------------------------------------------


def test_old_usage_is_summarised_and_still_counts(org: Org, settings: Any) -> None:
    settings.USAGE_RETENTION_DAYS, settings.EVENTS_HISTORY_DAYS = 30, 10
    now = at(2026, 6, 1, 12)
    old_day = at(2026, 2, 10, 9)
    for minute in range(3):
        use(org.account, org.alice, org.stripe, old_day + timedelta(minutes=minute))
    use(org.account, org.bob, org.stripe, old_day)
    recent = use(org.account, org.bob, org.stripe, at(2026, 5, 20))  # within retention: stays raw
    before = counts_per_person(UsageFilter(item=org.stripe, start=date(2025, 12, 1), end=date(2026, 5, 31)))

    rolled = summarise_old_usage(account=org.account, now=now)

    assert rolled == 4 + 7  # the four planted here and the fixture's seven, all before the cutoff
    assert not ItemUsage.objects.filter(timestamp__lt=at(2026, 5, 2)).exists()
    assert ItemUsage.objects.filter(pk=recent.pk).exists()
    assert ItemUsageDaily.objects.get(day=date(2026, 2, 10), user_op_id=org.alice.op_id).count == 3
    after = counts_per_person(UsageFilter(item=org.stripe, start=date(2025, 12, 1), end=date(2026, 5, 31)))
    assert [(r.op_id, r.count) for r in after] == [(r.op_id, r.count) for r in before]
    assert [(r.label, r.count) for r in after] == [("Alice Ops", 5), ("Bob Billing", 3), ("Carol Contractor", 1)]


def test_summarising_twice_changes_nothing(org: Org, settings: Any) -> None:
    settings.USAGE_RETENTION_DAYS, settings.EVENTS_HISTORY_DAYS = 30, 10
    now = at(2026, 6, 1, 12)
    summarise_old_usage(account=org.account, now=now)
    first = sorted(ItemUsageDaily.objects.values_list("day", "user_op_id", "item_op_id", "action", "count"))

    assert summarise_old_usage(account=org.account, now=now) == 0
    assert sorted(ItemUsageDaily.objects.values_list("day", "user_op_id", "item_op_id", "action", "count")) == first
    assert sum(row[-1] for row in first) == 7


def test_a_late_raw_row_adds_to_its_days_count(org: Org, settings: Any) -> None:
    settings.USAGE_RETENTION_DAYS, settings.EVENTS_HISTORY_DAYS = 30, 10
    now = at(2026, 6, 1, 12)
    summarise_old_usage(account=org.account, now=now)
    # The same day, person, item and action as a summarised use (the fixture's copy on 20 January).
    use(org.account, org.alice, org.stripe, at(2026, 1, 20, 18), "secure-copy")

    summarise_old_usage(account=org.account, now=now)

    assert ItemUsageDaily.objects.get(day=date(2026, 1, 20), user_op_id=org.alice.op_id).count == 2


def test_the_cutoff_never_comes_nearer_than_the_first_reads_reach(org: Org, settings: Any) -> None:
    settings.USAGE_RETENTION_DAYS, settings.EVENTS_HISTORY_DAYS = 30, 200
    summarise_old_usage(account=org.account, now=at(2026, 6, 1, 12))

    assert ItemUsage.objects.count() == 7  # January is < 200 days before June: a re-read could bring it back


def test_no_retention_keeps_every_raw_row(org: Org, settings: Any) -> None:
    settings.USAGE_RETENTION_DAYS = 0
    assert summarise_old_usage(account=org.account, now=at(2030, 1, 1)) == 0
    assert ItemUsage.objects.count() == 7


def test_the_page_says_which_part_of_the_range_is_summarised(org: Org, settings: Any, viewer: Any,
                                                            client_for: Callable[..., Client]) -> None:  # fmt: skip
    settings.USAGE_RETENTION_DAYS, settings.EVENTS_HISTORY_DAYS = 30, 10
    summarise_old_usage(account=org.account, now=timezone.now())

    response = page(client_for(viewer), JANUARY)

    assert page_uuids(response) == set()  # no single event is left for January
    assert [(r.label, r.count) for r in response.context["people"]] == [("Alice Ops", 2), ("Bob Billing", 1)]
    assert response.context["timeline"].total == 3
    text = " ".join(response.context["coverage"].statements)
    assert "kept as daily counts" in text and "Stored usage data starts on 2025-12-31" in text


def test_a_country_filter_leaves_the_summarised_days_out_and_says_so(org: Org, settings: Any) -> None:
    settings.USAGE_RETENTION_DAYS, settings.EVENTS_HISTORY_DAYS = 30, 10
    summarise_old_usage(account=org.account, now=timezone.now())
    f = UsageFilter(country="DE", start=date(2026, 1, 1), end=date(2026, 1, 31))

    assert counts_per_person(f) == []
    assert "keep no country or IP" in " ".join(coverage(f).statements)


def test_coverage_without_an_events_api_says_usage_is_not_measured() -> None:
    account = make_account(name="NoEvents")

    assert coverage(UsageFilter(account=account)).statements == ["Item usage is not measured: no Events API is configured."]


# --- the Events API import ---------------------------------------------------------------------


def _plant_feed_events(fake_org: Any, days_back: list[int]) -> dict[int, str]:
    data = fake_org.data
    item, user = data["items"][0], data["users"][0]
    planted = {}
    for days in days_back:
        uuid = f"AGE{days:04d}"
        fake_account.add_event(fake_org.path, "itemusages", {
            "uuid": uuid, "timestamp": fake_account.format_ts(datetime.now(UTC) - timedelta(days=days)),
            "used_version": 1, "vault_uuid": item["vault_id"], "item_uuid": item["id"], "action": "reveal",
            "user_uuid": user["id"], "client": "cli-linux", "ip": "192.0.2.10",
        })  # fmt: skip
        planted[days] = uuid
    return planted


def test_the_first_import_reads_400_days_back_by_default(fake_org: Any) -> None:
    planted = _plant_feed_events(fake_org, [250, 395, 405])

    sync_events(account=fake_org.add_account())

    stored = set(ItemUsage.objects.filter(uuid__in=planted.values()).values_list("uuid", flat=True))
    assert stored == {planted[250], planted[395]}  # 405 days back is before the first read's start_time


def test_the_history_reach_is_a_setting(fake_org: Any, settings: Any) -> None:
    settings.EVENTS_HISTORY_DAYS = 300
    planted = _plant_feed_events(fake_org, [250, 395])

    sync_events(account=fake_org.add_account())

    assert set(ItemUsage.objects.filter(uuid__in=planted.values()).values_list("uuid", flat=True)) == {planted[250]}


def test_the_import_summarises_usage_past_retention(fake_org: Any, settings: Any) -> None:
    settings.USAGE_RETENTION_DAYS = 500
    account = fake_org.add_account()
    user = make_op_user(account=account, name="Old Timer")
    item = make_item(vault=make_vault(account=account))
    ancient = use(account, user, item, timezone.now() - timedelta(days=600))
    kept = use(account, user, item, timezone.now() - timedelta(days=450))

    sync_events(account=account)

    assert not ItemUsage.objects.filter(pk=ancient.pk).exists()
    assert ItemUsage.objects.filter(pk=kept.pk).exists()
    # Both days keep their counts; only the ancient one lost its raw event.
    days = dict(ItemUsageDaily.objects.filter(account=account, user_op_id=user.op_id).values_list("day", "count"))
    assert days == {ancient.timestamp.astimezone(UTC).date(): 1, kept.timestamp.astimezone(UTC).date(): 1}


def test_the_last_used_refresh_writes_each_items_latest_use_and_only_changes(org: Org) -> None:
    from vaults.events import _refresh_last_used

    unused = make_item(vault=org.prod, title="Never used")
    Item.objects.filter(pk=org.stripe.pk).update(last_used_at=at(2025, 6, 1))  # stale
    Item.objects.filter(pk=org.prod_db.pk).update(last_used_at=at(2026, 1, 15, 8, 0))  # already right

    _refresh_last_used(org.account)

    latest = dict(Item.objects.values_list("pk", "last_used_at"))
    assert latest[org.stripe.pk] == at(2026, 2, 1)
    assert latest[org.payments.pk] == at(2026, 1, 31, 23, 59, 59)
    assert latest[org.prod_db.pk] == at(2026, 1, 15, 8, 0)
    assert latest[unused.pk] is None
