"""Incremental findings runs (vaults/findings/incremental.py): after each kind of change, the run
that recomputes only what changed leaves exactly the finding table a full run leaves, and does not
touch the findings the change cannot move.

Each test plants one organisation with a finding of every item kind, the group kinds and
over-permissioned people, runs the engine once (full), makes one change, then computes the full
run's result inside a savepoint that is rolled back, runs the engine again (incremental) and
compares the complete tables: every column of every finding, its related items, its status spans.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from tests.vaults.factories import (
    add_member,
    grant,
    make_account,
    make_item,
    make_op_group,
    make_op_user,
    make_secret,
    make_usage,
    make_vault,
)
from vaults.findings import incremental
from vaults.findings.engine import FindingsSummary, compute_findings
from vaults.findings.models import Finding, FindingStatusSpan, Policy
from vaults.models import Account, Item, ItemUsage, OpUser, SecretField, Vault, VaultGrant

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the change log is PostgreSQL's")

Table = dict[tuple[str, str], dict[str, Any]]


class _Rollback(Exception):
    pass


def finding_table(account: Account) -> Table:
    """Every column but the row id, plus related items and status spans, by (kind, key)."""
    table: Table = {}
    for values in Finding.objects.filter(account=account).values():
        row: dict[str, Any] = dict(values)
        pk = row.pop("id")
        row["related"] = sorted(
            Finding.related_items.through.objects.filter(finding_id=pk).values_list("item_id", flat=True)
        )
        row["spans"] = list(
            FindingStatusSpan.objects.filter(finding_id=pk)
            .order_by("valid_from", "pk")
            .values_list("status", "severity", "details", "valid_from", "valid_to")
        )
        table[(row["kind"], row["key"])] = row
    return table


def row_versions(account: Account) -> dict[tuple[str, str], tuple[int, str]]:
    """(row id, xmin) per finding: a rewritten row gets the xmin of the run's savepoint."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT kind, key, id, xmin::text FROM findings_finding WHERE account_id = %s", [account.pk])
        return {(kind, key): (pk, xmin) for kind, key, pk, xmin in cursor.fetchall()}


def full_run_result(account: Account, at: datetime.datetime) -> tuple[Table, FindingsSummary]:
    """The table a full run at `at` would leave, computed in a savepoint and rolled back (the
    change log and the run state come back with it)."""
    result: dict[str, Any] = {}
    try:
        with transaction.atomic():
            incremental.forget(account=account)
            result["summary"] = compute_findings(account=account, now=at)
            result["table"] = finding_table(account)
            raise _Rollback
    except _Rollback:
        pass
    assert result["summary"].full
    return result["table"], result["summary"]


def assert_incremental_equals_full(account: Account, at: datetime.datetime) -> FindingsSummary:
    expected, full_summary = full_run_result(account, at)
    summary = compute_findings(account=account, now=at)
    assert not summary.full, summary.reason
    assert finding_table(account) == expected
    assert (summary.created, summary.updated, summary.reopened, summary.resolved) == (
        full_summary.created, full_summary.updated, full_summary.reopened, full_summary.resolved,
    )  # fmt: skip
    assert summary.present == full_summary.present and summary.open == full_summary.open
    return summary


@dataclass
class Org:
    account: Account
    prod: Vault
    dev: Vault
    shared: Vault
    items: dict[str, Item]
    people: dict[str, OpUser]
    t0: datetime.datetime


def _item(
    vault: Vault, title: str, *, fingerprint: str | None = None, host: str = "example.com", **fields: Any
) -> Item:
    secret: dict[str, Any] = {
        k: fields.pop(k) for k in ("zxcvbn_score", "length", "strength", "changed_at") if k in fields
    }
    if fingerprint:
        secret["fingerprint"] = fingerprint
    item = make_item(vault=vault, title=title, urls=[{"href": f"https://{host}", "primary": True}], **fields)
    make_secret(item=item, **secret)
    return item


def _later(org: Org) -> datetime.datetime:
    """Five minutes after the first run, but on the same local day: a run after midnight rightly
    rewrites every explanation that counts days ("expires in 3 days"), which a test started at
    23:58 then took for a rewrite the change under test caused."""
    next_day = datetime.datetime.combine(
        timezone.localdate(org.t0) + datetime.timedelta(days=1), datetime.time.min, tzinfo=timezone.get_current_timezone()
    )
    return min(org.t0 + datetime.timedelta(minutes=5), next_day - datetime.timedelta(microseconds=1))


@pytest.fixture
def org(account: Account, now: datetime.datetime) -> Org:
    prod = make_vault(account=account, name="Payments Production", classification=Vault.Classification.PRODUCTION)
    dev = make_vault(account=account, name="Payments Development", classification=Vault.Classification.NON_PRODUCTION)
    shared = make_vault(account=account, name="Ops Shared", classification=Vault.Classification.SHARED)
    old = now - datetime.timedelta(days=400)
    items = {
        # duplicate + shared across environments (same host, production and development)
        "dup_a": _item(prod, "Stripe Production API Key", fingerprint="f1" * 32, host="stripe.com"),
        "dup_b": _item(dev, "Stripe Development API Key", fingerprint="f1" * 32, host="stripe.com"),
        # reused secret (two hosts) + shared across environments
        "reuse_a": _item(prod, "GitHub Production Token", fingerprint="f2" * 32, host="github.com"),
        "reuse_b": _item(shared, "Slack Shared Token", fingerprint="f2" * 32, host="slack.com"),
        # a duplicate of three copies in one vault
        "trio_a": _item(shared, "Datadog Shared API Key", fingerprint="f3" * 32, host="datadoghq.com"),
        "trio_b": _item(shared, "Datadog Shared API Key copy", fingerprint="f3" * 32, host="datadoghq.com"),
        "trio_c": _item(shared, "Datadog Shared API Key old", fingerprint="f3" * 32, host="datadoghq.com"),
        "weak": _item(dev, "Postgres Development Database Password", zxcvbn_score=1, length=8, strength="WEAK"),
        "overdue": _item(prod, "AWS Production API Key", changed_at=now - datetime.timedelta(days=400)),
        "due_soon": _item(prod, "Okta Production API Key", changed_at=now - datetime.timedelta(days=80)),
        "orphaned": _item(dev, "Sentry Development API Key", created=old, updated=old),
        "unclear": _item(dev, "Password"),
        "untagged": _item(dev, "Twilio Development API Key", tags=[]),
        "expiring": _item(dev, "Redis Development API Key", expires_at=(now + datetime.timedelta(days=10)).date()),
        # decoys: clean items, and findings on items no change below touches
        "clean": _item(dev, "Slack Development API Key"),
        "clean_prod": _item(prod, "Okta Production Admin Login", category="LOGIN"),
        "unclear_decoy": _item(shared, "Token"),
        "weak_decoy": _item(shared, "Redis Shared Database Password", zxcvbn_score=0, length=6, strength="TERRIBLE"),
    }
    people = {
        "suspended": make_op_user(account=account, name="Sam Suspended", state="SUSPENDED"),
        "admin": make_op_user(account=account, name="Avery Admin"),
        "member": make_op_user(account=account, name="Mo Member"),
        "other": make_op_user(account=account, name="Olga Other"),
    }
    grant(vault=prod, user=people["suspended"])
    grant(vault=dev, user=people["admin"], permissions=["view_items", "manage_vault"])
    team = make_op_group(account=account, name="Payments")
    for name in ("member", "other", "admin"):
        add_member(group=team, user=people[name])
    grant(vault=dev, group=team)
    compute_findings(account=account, now=now)
    return Org(account=account, prod=prod, dev=dev, shared=shared, items=items, people=people, t0=now)


def _kinds_of(account: Account, item: Item) -> set[str]:
    return set(
        Finding.objects.filter(account=account, item=item)
        .exclude(status=Finding.Status.RESOLVED)
        .values_list("kind", flat=True)
    )


def test_the_planted_organisation_has_every_kind_the_changes_move(org: Org) -> None:
    present = set(
        Finding.objects.filter(account=org.account, status=Finding.Status.OPEN).values_list("kind", flat=True)
    )
    assert {
        Finding.Kind.DUPLICATE, Finding.Kind.REUSED_SECRET, Finding.Kind.SHARED_ACROSS_ENVIRONMENTS, Finding.Kind.WEAK,
        Finding.Kind.OVERDUE_ROTATION, Finding.Kind.ROTATION_DUE_SOON, Finding.Kind.ORPHANED, Finding.Kind.UNCLEAR_NAME,
        Finding.Kind.MISSING_METADATA, Finding.Kind.EXPIRING, Finding.Kind.OVER_PERMISSIONED,
    } <= present  # fmt: skip
    assert not _kinds_of(org.account, org.items["clean"])


def test_a_run_with_no_change_is_incremental_and_rewrites_nothing(org: Org) -> None:
    before = row_versions(org.account)

    summary = assert_incremental_equals_full(org.account, _later(org))

    assert (summary.created, summary.updated, summary.resolved) == (0, 0, 0)
    assert row_versions(org.account) == before


def test_an_edited_item_recomputes_its_findings_and_leaves_the_others_untouched(org: Org) -> None:
    before = row_versions(org.account)
    unclear = org.items["unclear"]
    unclear.title = "Sentry Development API Key"
    unclear.save()

    summary = assert_incremental_equals_full(org.account, _later(org))

    assert summary.resolved == 1 and Finding.Kind.UNCLEAR_NAME not in _kinds_of(org.account, unclear)
    after = row_versions(org.account)
    untouched = {k for k in before if k != (Finding.Kind.UNCLEAR_NAME, f"item:{unclear.pk}")}
    assert {k: after[k] for k in untouched} == {k: before[k] for k in untouched}


def test_a_vault_rename_recomputes_the_findings_of_its_items(org: Org) -> None:
    org.dev.name = "Payments Development (old)"
    org.dev.save()

    summary = assert_incremental_equals_full(org.account, _later(org))

    assert summary.updated > 0
    weak = Finding.objects.get(kind=Finding.Kind.WEAK, item=org.items["weak"])
    assert "(old)" in weak.search_text


def test_a_deleted_item_resolves_its_findings_and_its_group(org: Org) -> None:
    org.items["dup_b"].delete()
    org.items["weak"].delete()

    summary = assert_incremental_equals_full(org.account, _later(org))

    assert summary.resolved >= 3  # the weak item's findings, the duplicate, the shared secret
    assert not Finding.objects.filter(
        kind=Finding.Kind.DUPLICATE, key=f"fp:{'f1' * 32}", status=Finding.Status.OPEN
    ).exists()


def test_an_archived_item_leaves_its_group_and_the_group_is_rewritten(org: Org) -> None:
    Item.objects.filter(pk=org.items["trio_c"].pk).update(archived=True)

    summary = assert_incremental_equals_full(org.account, _later(org))

    trio = Finding.objects.get(kind=Finding.Kind.DUPLICATE, key=f"fp:{'f3' * 32}")
    assert summary.updated >= 1 and trio.details["item_count"] == 2


def test_a_group_member_whose_secret_changed_leaves_the_group_it_left(org: Org) -> None:
    # The member's new fingerprint says nothing about the group it left: the stored group finding does.
    SecretField.objects.filter(item=org.items["reuse_b"]).update(fingerprint="f9" * 32)

    assert_incremental_equals_full(org.account, _later(org))

    assert Finding.objects.get(kind=Finding.Kind.REUSED_SECRET, key=f"fp:{'f2' * 32}").status == Finding.Status.RESOLVED


def test_an_item_joining_a_group_makes_it_a_duplicate(org: Org) -> None:
    SecretField.objects.filter(item=org.items["clean"]).update(fingerprint="f1" * 32)

    assert_incremental_equals_full(org.account, _later(org))

    shared = Finding.objects.get(kind=Finding.Kind.SHARED_ACROSS_ENVIRONMENTS, key=f"fp:{'f1' * 32}")
    assert shared.details["item_count"] == 3


def test_a_rotated_secret_resolves_its_overdue_rotation(org: Org) -> None:
    SecretField.objects.filter(item=org.items["overdue"]).update(changed_at=org.t0)

    assert_incremental_equals_full(org.account, _later(org))

    assert Finding.Kind.OVERDUE_ROTATION not in _kinds_of(org.account, org.items["overdue"])


def test_a_grant_added_and_one_removed_recompute_the_people(org: Org) -> None:
    grant(vault=org.prod, user=org.people["member"], permissions=["view_items", "export_items"])
    VaultGrant.objects.filter(user=org.people["suspended"]).delete()

    assert_incremental_equals_full(org.account, _later(org))

    flagged = set(
        Finding.objects.filter(kind=Finding.Kind.OVER_PERMISSIONED, status=Finding.Status.OPEN).values_list(
            "op_user", flat=True
        )
    )
    assert org.people["member"].pk in flagged and org.people["suspended"].pk not in flagged


def test_usage_of_an_orphaned_item_resolves_it(org: Org) -> None:
    make_usage(account=org.account, user=org.people["member"], item=org.items["orphaned"], when=org.t0)

    assert_incremental_equals_full(org.account, _later(org))

    assert Finding.Kind.ORPHANED not in _kinds_of(org.account, org.items["orphaned"])


def test_a_day_later_the_clock_moves_rotation_and_expiry_exactly_as_a_full_run(org: Org) -> None:
    summary = assert_incremental_equals_full(org.account, org.t0 + datetime.timedelta(days=1, minutes=1))

    assert summary.updated >= 3  # ages in days: overdue, due soon, expiring


def test_a_secret_crossing_its_rotation_period_becomes_overdue_without_any_change(org: Org) -> None:
    # Due soon at t0 (80 days old, 90-day period); 11 days later it is overdue.
    assert_incremental_equals_full(org.account, org.t0 + datetime.timedelta(days=11))

    assert Finding.Kind.OVERDUE_ROTATION in _kinds_of(org.account, org.items["due_soon"])


def test_an_item_passing_the_orphan_cutoff_is_found_without_any_change(org: Org, now: datetime.datetime) -> None:
    edited = now - datetime.timedelta(days=179, hours=23)
    Item.objects.filter(pk=org.items["clean"].pk).update(op_created_at=edited, op_updated_at=edited)
    compute_findings(account=org.account, now=now + datetime.timedelta(minutes=1))

    assert_incremental_equals_full(org.account, now + datetime.timedelta(hours=2))

    assert Finding.Kind.ORPHANED in _kinds_of(org.account, org.items["clean"])


def test_an_acceptance_out_of_reach_still_ends_on_its_date(org: Org) -> None:
    Finding.objects.filter(kind=Finding.Kind.UNCLEAR_NAME, item=org.items["unclear_decoy"]).update(
        status=Finding.Status.ACCEPTED, accepted_until=org.t0.date()
    )

    summary = assert_incremental_equals_full(org.account, org.t0 + datetime.timedelta(days=2))

    assert summary.acceptances_expired == 1


def test_a_policy_change_is_a_full_run(org: Org) -> None:
    policy = Policy.global_policy()
    policy.min_length = 40
    policy.save()

    summary = compute_findings(account=org.account, now=_later(org))

    assert summary.full and "policy" in summary.reason
    assert Finding.Kind.WEAK in _kinds_of(org.account, org.items["clean"])


def test_a_run_after_a_run_the_state_does_not_know_is_full(org: Org) -> None:
    incremental.forget(account=org.account)

    summary = compute_findings(account=org.account, now=_later(org))

    assert summary.full


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda o: Item.objects.filter(pk=o.items["untagged"].pk).update(tags=["team-x"]), id="tags added"),
        pytest.param(
            lambda o: OpUser.objects.filter(pk=o.people["suspended"].pk).update(state="ACTIVE"), id="person reactivated"
        ),
        pytest.param(
            lambda o: Vault.objects.filter(pk=o.shared.pk).update(classification=Vault.Classification.PRODUCTION),
            id="vault reclassified",
        ),
        pytest.param(
            lambda o: SecretField.objects.filter(item=o.items["weak_decoy"]).delete(), id="secret field deleted"
        ),
    ],
)
def test_other_changes_give_the_full_runs_table(org: Org, change: Callable[[Org], Any]) -> None:
    change(org)

    assert_incremental_equals_full(org.account, _later(org))


def _logged_items(account: Account) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT item_id FROM findings_changed_item WHERE account_id = %s", [account.pk])
        return {row[0] for row in cursor.fetchall()}


def test_a_vault_whose_content_version_alone_changed_logs_none_of_its_items(org: Org) -> None:
    Vault.objects.filter(pk=org.dev.pk).update(content_version=99, listed_content_version=99)
    Item.objects.filter(pk=org.items["clean"].pk).update(title=org.items["clean"].title)  # a no-op rewrite

    assert _logged_items(org.account) == set()

    Vault.objects.filter(pk=org.shared.pk).update(name="Ops Shared (renamed)")
    assert _logged_items(org.account) == set(Item.objects.filter(vault=org.shared).values_list("pk", flat=True))


def test_a_changed_secret_field_logs_its_item_only(org: Org) -> None:
    SecretField.objects.filter(item=org.items["weak"]).update(length=40)

    assert _logged_items(org.account) == {org.items["weak"].pk}


def test_item_uses_log_the_used_items_of_their_own_account_only(org: Org) -> None:
    globex = make_account(name="globex")
    weak, clean = org.items["weak"], org.items["clean"]
    # Decoy: another account's item with the same op id (ids are unique per account only).
    twin = make_item(vault=make_vault(account=globex, name="Globex Ops"), title="Twin")
    Item.objects.filter(pk=twin.pk).update(op_id=weak.op_id)
    with connection.cursor() as cursor:  # the twin's own writes logged it: start from an empty log
        cursor.execute("DELETE FROM findings_changed_item WHERE account_id = %s", [globex.pk])
    member = org.people["member"]
    ItemUsage.objects.bulk_create([
        ItemUsage(account=org.account, uuid=f"e-{n}", timestamp=org.t0, user_op_id=member.op_id,
                  item_op_id=item.op_id, vault_op_id=item.vault.op_id, action="reveal")
        for n, item in enumerate([weak, weak, clean])
    ])  # fmt: skip  # one statement, as an import's page: two uses of one item log it once

    assert _logged_items(org.account) == {weak.pk, clean.pk}
    assert _logged_items(globex) == set()


def test_direct_access_whose_last_use_passes_the_cutoff_is_flagged_without_any_change(
    org: Org, now: datetime.datetime
) -> None:
    other = org.people["other"]
    grant(vault=org.shared, user=other)
    make_usage(
        account=org.account, user=other, item=org.items["trio_a"], when=now - datetime.timedelta(days=89, hours=23)
    )
    # A decoy: the same person's use of the development vault (group access only) ages out too.
    make_usage(
        account=org.account, user=other, item=org.items["clean"], when=now - datetime.timedelta(days=89, hours=23)
    )
    compute_findings(account=org.account, now=now + datetime.timedelta(minutes=1))
    assert not Finding.objects.filter(
        kind=Finding.Kind.OVER_PERMISSIONED, op_user=other, status=Finding.Status.OPEN
    ).exists()

    assert_incremental_equals_full(org.account, now + datetime.timedelta(hours=2))

    assert Finding.objects.filter(
        kind=Finding.Kind.OVER_PERMISSIONED, op_user=other, status=Finding.Status.OPEN
    ).exists()
