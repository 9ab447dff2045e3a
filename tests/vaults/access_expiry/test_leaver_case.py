"""A contract's end opens the leaver case in OpenClaw's name, with its own reason: the timeline and
the CC6.3 / A.5.18 evidence must not say the sponsor decided it, nor that someone marked the person
as leaving."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from compliance.models import AuditLogEntry
from compliance.reports import offboarding_evidence
from compliance.reports.evidence import Evidence
from compliance.reviews.periods import Period
from tests.vaults.access_expiry.conftest import end_date
from tests.vaults.factories import grant, make_op_user
from vaults.access_expiry import daily
from vaults.models import HistoryStart
from vaults.offboarding import cases
from vaults.offboarding.models import OffboardingCase

pytestmark = pytest.mark.django_db


def _evidence_for(account) -> dict[str, offboarding_evidence.CaseAtEnd]:
    now = timezone.now()
    HistoryStart.objects.create(account=account, since=now - datetime.timedelta(days=30))
    period = Period(start=now - datetime.timedelta(days=10), end=now + datetime.timedelta(days=1), label="now")
    ev = Evidence(period=period, accounts=[account], now=now + datetime.timedelta(days=2))
    return {row.case.name: row for row in offboarding_evidence.at_end(ev)}


def test_a_contract_end_opens_the_case_as_the_system_with_its_own_reason(
    account, prod_vault, team_lead, client_for, admin_user
) -> None:
    contractor = make_op_user(account=account, name="Casey Contractor")
    grant(vault=prod_vault, user=contractor)
    end_date(contractor, days=-1, sponsor=team_lead)
    # Decoy: a person marked by the lead keeps the lead's name on it.
    leaver = make_op_user(account=account, name="Lena Leaver")
    cases.mark_leaving(op_user=leaver, leave_date=timezone.localdate(), user=team_lead)

    daily.run_access_expiry(account=account)

    case = OffboardingCase.objects.get(op_user=contractor)
    assert case.reason == OffboardingCase.Reason.ACCESS_ENDED and case.opened_by is None
    entry = AuditLogEntry.objects.get(action="offboarding.case_opened", target_id=str(case.pk))
    assert entry.actor_id is None and entry.actor_label == "system (access expiry)"
    rows = _evidence_for(account)
    assert rows["Casey Contractor"].timeline.startswith(f"opened {case.opened_at:%Y-%m-%d} (access expiry)")
    assert rows["Lena Leaver"].timeline.startswith(f"opened {case.opened_at:%Y-%m-%d} (by {team_lead.username})")
    page = client_for(admin_user).get(f"/offboarding/{case.pk}/").content.decode()
    assert "Time-limited access ended (opened by access expiry)" in page
    assert team_lead.username not in page and "Marked as leaving" not in page


def test_a_sync_opened_case_still_says_sync(account) -> None:
    person = make_op_user(account=account, name="Sam Suspended", state="SUSPENDED")
    case = cases.open_case(person, leave_date=timezone.localdate(), reason=OffboardingCase.Reason.BECAME_INACTIVE)

    assert case.opened_by_label == "sync"
    assert AuditLogEntry.objects.get(action="offboarding.case_opened").actor_label == "system (sync)"
