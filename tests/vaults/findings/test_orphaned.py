from __future__ import annotations

from tests.vaults.factories import days_ago, make_item, make_op_user, make_usage
from tests.vaults.findings.helpers import open_findings
from vaults.findings.models import Finding


def test_an_old_unused_unedited_item_is_orphaned(account, prod_vault, now) -> None:
    item = make_item(vault=prod_vault, created=days_ago(400, now=now), updated=days_ago(200, now=now))

    [finding] = open_findings(account, Finding.Kind.ORPHANED, now=now)

    assert finding.item == item and finding.severity == Finding.Severity.LOW


def test_recent_use_keeps_an_item_from_being_orphaned(account, prod_vault, now) -> None:
    item = make_item(vault=prod_vault, created=days_ago(400, now=now), updated=days_ago(200, now=now))
    make_usage(account=account, user=make_op_user(account=account), item=item, when=days_ago(10, now=now))

    assert open_findings(account, Finding.Kind.ORPHANED, now=now) == []


def test_a_recent_edit_keeps_an_item_from_being_orphaned(account, prod_vault, now) -> None:
    make_item(vault=prod_vault, created=days_ago(400, now=now), updated=days_ago(179, now=now))

    assert open_findings(account, Finding.Kind.ORPHANED, now=now) == []


def test_items_created_recently_are_not_orphaned_by_age(account, prod_vault, now) -> None:
    make_item(vault=prod_vault, created=days_ago(100, now=now))

    assert open_findings(account, Finding.Kind.ORPHANED, now=now) == []


def test_deprecated_or_decommissioned_tags_orphan_an_item_whatever_its_age(account, prod_vault, now) -> None:
    a = make_item(vault=prod_vault, tags=["Deprecated"])
    b = make_item(vault=prod_vault, tags=["team", "decommissioned"])

    assert {f.item for f in open_findings(account, Finding.Kind.ORPHANED, now=now)} == {a, b}


def test_archived_items_are_ignored(account, prod_vault, now) -> None:
    make_item(vault=prod_vault, tags=["deprecated"], archived=True)

    assert open_findings(account, Finding.Kind.ORPHANED, now=now) == []


# --- what the finding may claim depends on usage coverage --------------------------------------


def _old_item(vault, now, **fields):
    return make_item(vault=vault, created=days_ago(400, now=now), updated=days_ago(200, now=now), **fields)


def test_without_an_events_api_no_finding_claims_nobody_used_the_item(account, prod_vault, now) -> None:
    _old_item(prod_vault, now)

    [finding] = open_findings(account, Finding.Kind.ORPHANED, now=now)

    assert "nobody has used" not in finding.explanation
    assert "unknown" in finding.explanation and "no Events API" in finding.explanation
    assert finding.details["usage_known"] is False


def test_a_deprecated_tag_orphans_an_item_and_says_usage_is_unknown(account, prod_vault, now) -> None:
    item = make_item(vault=prod_vault, tags=["deprecated"])

    [finding] = open_findings(account, Finding.Kind.ORPHANED, now=now)

    assert finding.item == item
    assert "tagged “deprecated”" in finding.explanation and "unknown" in finding.explanation


def test_usage_kept_for_less_than_the_window_is_not_enough_to_claim_nobody_used_it(account, prod_vault, now) -> None:
    account.events_url = "https://events.1password.example"
    account.save()
    other = make_item(vault=prod_vault, title="Other Production Key")
    make_usage(account=account, user=make_op_user(account=account), item=other, when=days_ago(30, now=now))
    _old_item(prod_vault, now)

    [finding] = open_findings(account, Finding.Kind.ORPHANED, now=now)

    assert "nobody has used" not in finding.explanation
    assert "measured since" in finding.explanation and finding.details["usage_known"] is False


def test_with_usage_measured_over_the_whole_window_the_finding_says_nobody_used_it(account, prod_vault, now) -> None:
    account.events_url = "https://events.1password.example"
    account.save()
    other = make_item(vault=prod_vault, title="Other Production Key")
    make_usage(account=account, user=make_op_user(account=account), item=other, when=days_ago(300, now=now))
    make_usage(account=account, user=make_op_user(account=account), item=other, when=days_ago(3, now=now))
    item = _old_item(prod_vault, now)

    [finding] = open_findings(account, Finding.Kind.ORPHANED, now=now)

    assert finding.item == item
    assert "nobody has used it in 180 days" in finding.explanation
    assert finding.details["usage_known"] is True


def test_usage_coverage_reads_the_data(account, prod_vault, now) -> None:
    from vaults.findings.usage_coverage import usage_coverage

    assert usage_coverage(account).since is None and not usage_coverage(account).events_configured
    account.events_url = "https://events.1password.example"
    account.save()
    assert "no item-usage event" in usage_coverage(account).summary
    first = days_ago(50, now=now)
    item = make_item(vault=prod_vault)
    make_usage(account=account, user=make_op_user(account=account), item=item, when=first)
    make_usage(account=account, user=make_op_user(account=account), item=item, when=days_ago(5, now=now))

    coverage = usage_coverage(account)

    assert coverage.since == first
    assert coverage.covers(days_ago(40, now=now)) and not coverage.covers(days_ago(60, now=now))


def test_the_sync_page_shows_each_accounts_usage_coverage(account, viewer, client_for) -> None:
    from django.urls import reverse

    response = client_for(viewer).get(reverse("sync:status"))

    assert response.status_code == 200
    assert f'data-usage-coverage="{account.pk}"' in response.content.decode()
    assert "no Events API is configured" in response.content.decode()
