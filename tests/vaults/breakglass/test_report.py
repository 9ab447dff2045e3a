"""The SOC 2 and ISO 27001 reports' "Emergency access" section: each event of the period with
reason and follow-up as of the period's end; honest when there is none."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from compliance.controls import ISO_CONTROLS
from compliance.reports import break_glass, verdicts
from compliance.reports.builders import build_report
from compliance.reports.evidence import Evidence
from compliance.reports.pdf import render_pdf
from compliance.reports.xlsx import render_xlsx
from compliance.reviews.periods import parse_period
from tests.compliance.reports.helpers import pdf_text
from tests.vaults import factories as f
from tests.vaults.breakglass.conftest import use
from vaults import history
from vaults.breakglass import record
from vaults.breakglass.models import EmergencyUse
from vaults.models import SecretField, Vault

pytestmark = pytest.mark.django_db
H = datetime.timedelta(hours=1)
Q3 = parse_period("2026Q3")
FORMULA = '=HYPERLINK("http://evil.example","INC")'


@pytest.fixture
def q3_events(account, root_login, emergency_vault, dana):
    """Three uses in Q3: explained and rotated in time; silent; explained only after the quarter."""
    history.record_history(account, at=Q3.start - 10 * 24 * H)
    other = f.make_item(vault=emergency_vault, title="Postgres Production Superuser Login", category="LOGIN")
    f.make_secret(item=other, field_id="password", changed_at=Q3.start - 40 * 24 * H)
    third = f.make_item(vault=emergency_vault, title="Cloudflare Production Owner Login", category="LOGIN")
    f.make_secret(item=third, field_id="password", changed_at=Q3.start - 40 * 24 * H)
    use(root_login, dana, datetime.datetime(2026, 8, 3, 3, 5, tzinfo=datetime.UTC))
    use(other, dana, datetime.datetime(2026, 8, 20, 2, 0, tzinfo=datetime.UTC))
    use(third, dana, datetime.datetime(2026, 9, 29, 1, 0, tzinfo=datetime.UTC))
    use(third, dana, datetime.datetime(2026, 10, 2, 1, 0, tzinfo=datetime.UTC))  # Q4: not in the Q3 report
    record.record_uses(account=account)
    SecretField.objects.filter(item=root_login).update(changed_at=datetime.datetime(2026, 8, 3, 9, 0, tzinfo=datetime.UTC))
    record.refresh_rotations(account=account)
    EmergencyUse.objects.filter(item=root_login).update(
        reason=FORMULA, reason_by="user", reason_at=datetime.datetime(2026, 8, 3, 10, 0, tzinfo=datetime.UTC))
    EmergencyUse.objects.filter(item=third, first_used_at__month=9).update(
        reason="Explained in October", reason_by="person", reason_at=datetime.datetime(2026, 10, 5, tzinfo=datetime.UTC))
    return root_login, other, third


def test_each_event_of_the_period_has_its_reason_and_follow_up_as_of_the_period_end(q3_events):
    now = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
    ev = Evidence(period=Q3, accounts=list(f.Account.objects.all()), now=now)

    section = break_glass.section(ev)

    rows = section.tables[0].top
    assert [(r[3], r[7], r[10]) for r in rows] == [
        ("AWS Production Root Login", "given 2026-08-03 10:00 by the user", "done 2026-08-03 09:00"),
        ("Postgres Production Superuser Login", "missing", "late: not rotated"),
        ("Cloudflare Production Owner Login", "missing", "late: not rotated"),  # its October reason is after Q3
    ]
    assert rows[0][6] == FORMULA and rows[2][6] == ""
    assert [k.value for k in section.kpis] == ["3", "2", "2"]
    assert section.bullets == []


def test_a_period_without_use_says_so_and_names_the_emergency_vaults_or_their_absence(account, emergency_vault, dana):
    # Item usage measured over the whole quarter (Events API since June): silence is evidence.
    account.events_url = "https://events.1password.com"
    account.save(update_fields=["events_url"])
    wiki = f.make_item(vault=f.make_vault(account=account, name="Wiki"), title="Wiki Bot")
    use(wiki, dana, Q3.start - 30 * 24 * H)
    history.record_history(account, at=Q3.start - 24 * H)
    ev = Evidence(period=Q3, accounts=[account], now=datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC))

    assert break_glass.section(ev).bullets == ["No break-glass use in the period. Vaults classified emergency: "
                                               "Emergency Access."]
    Vault.objects.update(classification=Vault.Classification.PRODUCTION)
    history.record_history(account, at=Q3.start - 12 * H)
    [bullet] = break_glass.section(Evidence(period=Q3, accounts=[account], now=ev.now)).bullets
    assert bullet.startswith("No break-glass use in the period — and no vault is classified emergency")
    assert "not evidence" in bullet


@pytest.mark.parametrize("kind", ["soc2", "iso27001"])
def test_both_reports_carry_the_section_in_pdf_and_a_formula_safe_workbook(q3_events, kind, tmp_path: Path):
    document = build_report(kind=kind, period=Q3, generator="carol", now=datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC))
    render_xlsx(document, tmp_path / "r.xlsx")
    (tmp_path / "r.pdf").write_bytes(render_pdf(document))

    sheet = load_workbook(tmp_path / "r.xlsx")["Break-glass events"]
    reasons = [row[6].value for row in sheet.iter_rows(min_row=2) if row[6].value]
    assert reasons == ["'" + FORMULA] and all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    text = " ".join(pdf_text(tmp_path / "r.pdf").split())
    assert "Emergency access" in text and "Break-glass events" in text and "late: not" in text


# --- the one emergency section and its evidence line (CC7.2, A.8.2) -----------------------------


def _measured_since_june(account: f.Account, dana) -> None:
    """Item usage measured over the whole quarter: the Events API's first stored use is in June."""
    account.events_url = "https://events.1password.com"
    account.save(update_fields=["events_url"])
    wiki = f.make_item(vault=f.make_vault(account=account, name="Wiki"), title="Wiki Bot")
    use(wiki, dana, Q3.start - 30 * 24 * H)


@pytest.mark.parametrize("kind", ["soc2", "iso27001"])
def test_each_report_has_one_emergency_section_and_night_use_elsewhere_is_not_in_it(q3_events, account, prod_vault,
                                                                                   dana, kind):
    payments = f.make_item(vault=prod_vault, title="Payments Admin Login", category="LOGIN")
    use(payments, dana, datetime.datetime(2026, 8, 10, 2, 30, tzinfo=datetime.UTC))  # decoy: night, not break-glass
    named = f.make_item(vault=f.make_vault(account=account, name="Break Glass Archive"), title="Emergency Root")
    use(named, dana, datetime.datetime(2026, 8, 11, 14, 0, tzinfo=datetime.UTC))  # decoy: named, not classified

    document = build_report(kind=kind, period=Q3, generator="carol", now=datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC))

    emergency = [s for s in document.sections if "emergency" in (s.key + s.title).lower()]
    assert [s.key for s in emergency] == [break_glass.KEY]
    titles = [row[3] for row in emergency[0].tables[0].top]
    assert "Payments Admin Login" not in titles and "Emergency Root" not in titles and len(titles) == 3


def test_the_evidence_line_counts_each_event_past_a_deadline_once(q3_events, account, dana):
    _measured_since_june(account, dana)
    ev = Evidence(period=Q3, accounts=[account], now=datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC))

    line = verdicts.evidence_lines(ev)["break_glass"]

    # Two events each missed both deadlines (no reason, not rotated): two exceptions, not four.
    assert line.available and line.exceptions == 2 and line.rows == break_glass.KEY
    assert line.text == ("3 break-glass events in 1 vault classified emergency: 2 without a reason past its "
                         "deadline, 2 rotated late or not at all.")
    a82 = next(c for c in ISO_CONTROLS if c.ref == "A.8.2")
    assert verdicts.verdict(a82, verdicts.evidence_lines(ev), {}) == "Exceptions noted (2): see Break-glass events"


def test_a_quiet_period_reads_as_such_with_or_without_an_emergency_vault(
        account, emergency_vault, dana):
    _measured_since_june(account, dana)
    history.record_history(account, at=Q3.start - 24 * H)
    ev = Evidence(period=Q3, accounts=[account], now=datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC))
    line = verdicts.evidence_lines(ev)["break_glass"]
    assert line.available and line.exceptions == 0 and line.text.startswith("0 break-glass events in 1 vault")

    # No vault classified emergency: the line says so in words, never "0 events", and does not on
    # its own turn the monitoring control into "No evidence" (its other lines decide).
    Vault.objects.update(classification=Vault.Classification.PRODUCTION)
    history.record_history(account, at=Q3.start - 12 * H)
    lines = verdicts.evidence_lines(Evidence(period=Q3, accounts=[account], now=ev.now))
    line = lines["break_glass"]
    assert line.available and line.exceptions == 0
    assert line.text.startswith("No vault was classified emergency") and "0 break-glass" not in line.text


def test_the_evidence_line_is_no_evidence_when_usage_starts_inside_the_period(q3_events, account):
    account.events_url = "https://events.1password.com"
    account.save(update_fields=["events_url"])  # the first stored use is in August
    ev = Evidence(period=Q3, accounts=[account], now=datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC))

    line = verdicts.evidence_lines(ev)["break_glass"]

    assert not line.available and line.exceptions == 0 and "not measured over the whole period" in line.text
