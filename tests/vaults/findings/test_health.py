from __future__ import annotations

import datetime

import pytest

from tests.vaults.factories import make_item
from vaults.findings.engine import compute_findings
from vaults.findings.health import KIND_CAP, Band, band, compute_health, score_from
from vaults.findings.models import Finding


@pytest.mark.parametrize(
    ("score", "expected"),
    [(100, Band.HEALTHY), (90, Band.HEALTHY), (89, Band.NEEDS_ATTENTION), (60, Band.NEEDS_ATTENTION), (59, Band.AT_RISK), (0, Band.AT_RISK)],
)
def test_score_bands_have_their_edges_where_documented(score, expected) -> None:
    assert band(score) == expected


def test_no_findings_is_a_perfect_score() -> None:
    assert score_from({}, items=100, people=10).score == 100


def test_points_lost_follow_weight_over_items_times_cap() -> None:
    health = score_from({"weak": {"high": 2}, "missing_metadata": {"low": 30}}, items=200, people=5)

    assert health.penalties() == {"weak": 1.5, "missing_metadata": 1.1}
    assert health.score == 97  # round(100 - 1.5 - 1.05)


def test_each_kind_is_capped() -> None:
    health = score_from({"weak": {"high": 1000}}, items=10, people=1)

    assert health.score == 100 - KIND_CAP["weak"]


def test_everything_at_its_cap_scores_zero() -> None:
    counts = {kind: {"high": 10_000} for kind in KIND_CAP}
    assert score_from(counts, items=1, people=1).score == 0


def test_over_permissioned_is_normalised_by_people_not_items() -> None:
    health = score_from({"over_permissioned": {"medium": 1}}, items=10_000, people=4)

    assert health.penalties() == {"over_permissioned": 15.0}


def test_accepted_risks_do_not_cost_points(account, prod_vault, now) -> None:
    make_item(vault=prod_vault, title="Password")
    compute_findings(account=account, now=now)
    assert compute_health(account=account)[None].score < 100

    Finding.objects.update(status=Finding.Status.ACCEPTED, accepted_until=now.date() + datetime.timedelta(days=5))

    assert compute_health(account=account)[None].score == 100


def test_a_duplicate_spanning_vaults_costs_points_in_each(account, prod_vault, dev_vault, now) -> None:
    from tests.vaults.factories import make_secret

    for vault in (prod_vault, dev_vault):
        make_secret(item=make_item(vault=vault, title=f"Stripe {vault.name} Key"), fingerprint="ee" * 32)
    compute_findings(account=account, now=now)

    health = compute_health(account=account)

    assert "duplicate" in health[prod_vault.pk].penalties()
    assert "duplicate" in health[dev_vault.pk].penalties()
