"""Adversarial review of bulk proposals from the findings list (issue 19): which findings a
forged POST can turn into actions. Real fake `op` organisation and PostgreSQL.

Both pass today (plans.specs_for_finding refuses a finding that is not open); they guard the
endpoint, whose form accepts any finding id and a `status=all` filter."""

from __future__ import annotations

from django.urls import reverse

from tests.vaults.cleanup.conftest import FakeOrg, fake_org  # noqa: F401 (fixture)
from vaults.cleanup.models import CleanupPlan
from vaults.findings.models import Finding


def _orphaned(n: int) -> list[Finding]:
    found = list(Finding.objects.filter(kind=Finding.Kind.ORPHANED, status=Finding.Status.OPEN).order_by("pk")[:n])
    assert len(found) == n
    return found


def test_checked_ids_of_accepted_or_resolved_findings_produce_no_action(
    fake_org: FakeOrg,  # noqa: F811
    team_lead,
    client_for,
) -> None:
    """A compliance officer accepted the risk of one finding; another is resolved. The bulk form
    takes any finding id (`ModelMultipleChoiceField(Finding.objects.all())`): a forged POST must
    still not put an archive of an accepted-risk item in front of an approver."""
    open_one, accepted = _orphaned(2)
    resolved = Finding.objects.filter(status=Finding.Status.OPEN, kind=Finding.Kind.UNCLEAR_NAME).first()
    assert resolved is not None
    Finding.objects.filter(pk=accepted.pk).update(status=Finding.Status.ACCEPTED)
    Finding.objects.filter(pk=resolved.pk).update(status=Finding.Status.RESOLVED)

    client_for(team_lead).post(reverse("cleanup:propose_bulk"), {"ids": [open_one.pk, accepted.pk, resolved.pk]})

    plan = CleanupPlan.objects.get()  # decoy: the open finding is proposed
    assert list(plan.actions.values_list("finding_id", flat=True).order_by("finding_id")) == [open_one.pk]


def test_all_matching_with_status_all_takes_only_open_findings(
    fake_org: FakeOrg,  # noqa: F811
    team_lead,
    client_for,
) -> None:
    """The findings list's filter may show every status (`status=all`); "all matching this
    filter" must still propose actions for open findings only."""
    open_one, accepted = _orphaned(2)
    Finding.objects.filter(pk=accepted.pk).update(status=Finding.Status.ACCEPTED)

    client_for(team_lead).post(
        reverse("cleanup:propose_bulk"), {"all_matching": "1", "query": "kind=orphaned&status=all"}
    )

    plan = CleanupPlan.objects.get()
    addressed = set(plan.actions.values_list("finding_id", flat=True))
    assert open_one.pk in addressed  # decoy: open findings are still taken
    assert accepted.pk not in addressed, "an accepted-risk finding was turned into an action"
