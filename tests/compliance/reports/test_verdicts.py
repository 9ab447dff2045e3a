"""Control verdicts: a period without data is "No evidence", never "Effective"; exceptions come only
from data that exists; undecided review entries are open; A.8.2 counts manage rights through any
path and the built-in admin groups; A.8.5 is judged from sign-in methods; Annex A ids are "A.x.y"."""

from __future__ import annotations

import datetime
import io
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from openpyxl import load_workbook

from compliance.controls import ISO_CONTROLS, SOC2_CONTROLS, Control
from compliance.reports import verdicts
from compliance.reports.builders import build_report
from compliance.reports.evidence import Evidence
from compliance.reports.pdf import render_print_html
from compliance.reports.xlsx import render_xlsx
from compliance.reviews.models import AccessReview, AccessReviewEntry
from compliance.reviews.periods import Period, period_containing
from vaults import history
from vaults.models import Account, GroupMembership, ItemUsage, OpGroup, OpUser, SignInAttempt, Vault, VaultGrant

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
START = datetime.datetime(2026, 7, 1, tzinfo=UTC)
END = datetime.datetime(2026, 10, 1, tzinfo=UTC)
Q3 = Period(start=START, end=END, label="2026Q3")
AFTER_Q3 = END + datetime.timedelta(days=5)
USAGE_ONLY = Control("test", "T.1", "Usage", "r", "s", ("usage_monitoring", "anomalies"))
A82 = next(c for c in ISO_CONTROLS if c.ref == "A.8.2")
A85 = next(c for c in ISO_CONTROLS if c.ref == "A.8.5")


def _verdict(control: Control, ev: Evidence) -> verdicts.Verdict:
    return verdicts.verdict(control, verdicts.evidence_lines(ev), {})


def _account(name: str = "Acme") -> Account:
    return Account.objects.create(name=name, token_env="OP_SERVICE_ACCOUNT_TOKEN", events_url="http://events.invalid",
                                  events_token_env="OP_EVENTS_TOKEN")


def _use(account: Account, when: datetime.datetime, *, vault: str = "v-prod", ip: str = "10.0.0.1", n: int = 1) -> None:
    for _ in range(n):
        ItemUsage.objects.create(account=account, uuid=f"u{ItemUsage.objects.count()}", timestamp=when, user_op_id="U1",
                                 user_email="ann@example.com", item_op_id="I1", vault_op_id=vault, client_ip=ip)


def _sign_in(account: Account, when: datetime.datetime, category: str, kind: str) -> None:
    SignInAttempt.objects.create(account=account, uuid=f"s{SignInAttempt.objects.count()}", timestamp=when,
                                 category=category, attempt_type=kind, user_op_id="U1", user_email="ann@example.com")


# --- the "done when": no pass without data ------------------------------------------------


def test_a_quarter_before_the_first_sync_has_no_effective_control_in_soc2_or_iso(synced_org):
    now = timezone.now()
    before_any_data = period_containing(now - datetime.timedelta(days=400))

    for kind in ("soc2", "iso27001"):
        document = build_report(kind=kind, period=before_any_data, generator="tester", now=now)
        rows = document.section("controls").tables[0].top
        assert rows
        assert not [r[0] for r in rows if str(r[-1]).startswith("Effective")]
        assert {str(r[-1]) for r in rows} == {"No evidence"}
        advice = document.section("recommendations").bullets
        assert not [b for b in advice if b.startswith("No action needed")]
        assert [b for b in advice if b.startswith("Controls marked No evidence lack data for this period")]
    cc72 = next(r for r in build_report(kind="soc2", period=before_any_data, generator="t", now=now)
                .section("controls").tables[0].top if r[0] == "CC7.2")
    assert "No evidence: item usage was not measured" in str(cc72[3])


# --- usage-based lines -----------------------------------------------------------------------------


def test_a_period_with_usage_coverage_and_no_anomaly_is_effective_for_its_lines():
    account = _account()
    Vault.objects.create(account=account, op_id="v-prod", name="Production", classification="production")
    _use(account, START - datetime.timedelta(days=3))  # measured since before the period
    _use(account, START + datetime.timedelta(days=10, hours=11))  # daytime, one address

    ev = Evidence(period=Q3, accounts=[account], now=AFTER_Q3)
    lines = verdicts.evidence_lines(ev)

    assert lines["anomalies"].available and lines["anomalies"].exceptions == 0
    assert _verdict(USAGE_ONLY, ev) == "Effective"


def test_the_same_quiet_period_is_no_evidence_when_usage_was_measured_from_mid_period_only():
    account = _account()
    Vault.objects.create(account=account, op_id="v-prod", name="Production", classification="production")
    _use(account, START + datetime.timedelta(days=40, hours=11))  # the first event ever: mid-period

    ev = Evidence(period=Q3, accounts=[account], now=AFTER_Q3)

    assert not verdicts.evidence_lines(ev)["usage_monitoring"].available
    assert _verdict(USAGE_ONLY, ev) == "No evidence"


def test_a_night_time_use_in_production_is_an_exception_pointing_at_the_anomaly_table():
    account = _account()
    Vault.objects.create(account=account, op_id="v-prod", name="Production", classification="production")
    _use(account, START - datetime.timedelta(days=3))
    _use(account, START + datetime.timedelta(days=10, hours=2))  # 02:00 UTC

    result = _verdict(USAGE_ONLY, Evidence(period=Q3, accounts=[account], now=AFTER_Q3))

    assert result.label == "Exceptions noted (1)"
    assert result.links == (("anomalies", "Access anomalies"),)
    assert str(result) == "Exceptions noted (1): see Access anomalies"


def test_an_exception_is_reported_even_when_another_line_of_the_control_has_no_data():
    account = _account()
    Vault.objects.create(account=account, op_id="v-prod", name="Production", classification="production")
    _use(account, START - datetime.timedelta(days=3))
    _use(account, START + datetime.timedelta(days=10, hours=2))
    mixed = Control("test", "T.2", "Mixed", "r", "s", ("anomalies", "access_reviews"))  # no review at all

    assert _verdict(mixed, Evidence(period=Q3, accounts=[account], now=AFTER_Q3)).label == "Exceptions noted (1)"


# --- access reviews -------------------------------------------------------------------------------


def _review(account: Account, status: str, decisions: list[str]) -> AccessReview:
    person = User.objects.create_user(username=f"officer{AccessReview.objects.count()}")
    review = AccessReview.objects.create(account=account, title="Q3 review", period="2026Q3", period_start=START,
                                         period_end=END, opened_by=person, opened_at=START, status=status,
                                         signed_off_by=person if status == AccessReview.Status.SIGNED_OFF else None)
    for n, decision in enumerate(decisions):
        AccessReviewEntry.objects.create(review=review, user_label=f"user {n}", vault_name="Production", decision=decision)
    return review


def test_undecided_review_entries_are_open_and_never_exceptions():
    account = _account()
    _review(account, AccessReview.Status.SIGNED_OFF, ["keep", "revoke", "", "", ""])
    reviews_only = Control("test", "T.3", "Reviews", "r", "s", ("access_reviews",))

    ev = Evidence(period=Q3, accounts=[account], now=AFTER_Q3)
    line = verdicts.evidence_lines(ev)["access_reviews"]

    assert line.available and line.exceptions == 0
    assert "3 open" in line.text
    assert _verdict(reviews_only, ev) == "Effective"


def test_a_review_not_signed_off_and_no_review_at_all_are_no_evidence():
    account = _account()
    other = _account("Other")
    _review(account, AccessReview.Status.OPEN, ["keep", ""])
    reviews_only = Control("test", "T.3", "Reviews", "r", "s", ("access_reviews",))

    open_review = verdicts.evidence_lines(Evidence(period=Q3, accounts=[account], now=AFTER_Q3))["access_reviews"]
    no_review = Evidence(period=Q3, accounts=[other], now=AFTER_Q3)

    assert not open_review.available and "none signed off" in open_review.text and "1 open" in open_review.text
    assert _verdict(reviews_only, no_review) == "No evidence"
    assert "no access review covers this period" in verdicts.evidence_lines(no_review)["access_reviews"].text


# --- A.8.2 privileged access ---------------------------------------------------------------------


def _privileged_org() -> Account:
    """Ann manages a vault directly, Bob through the Ops group (and views it through Readers), Cat
    is an Owner, Dan an Administrator (suspended); decoys: Eve only views through Readers, Fay
    belongs to "Owners-archive"."""
    account = _account()
    vault = Vault.objects.create(account=account, op_id="v1", name="Production", classification="production")
    users = {name: OpUser.objects.create(account=account, op_id=f"U-{name}", name=name, email=f"{name}@example.com",
                                         state="SUSPENDED" if name == "Dan" else "ACTIVE")
             for name in ("Ann", "Bob", "Cat", "Dan", "Eve", "Fay")}
    groups = {name: OpGroup.objects.create(account=account, op_id=f"G-{name}", name=name, state="ACTIVE")
              for name in ("Owners", "Administrators", "Ops", "Readers", "Owners-archive")}
    VaultGrant.objects.create(vault=vault, user=users["Ann"], permissions=["allow_viewing", "allow_managing"])
    VaultGrant.objects.create(vault=vault, group=groups["Ops"], permissions=["view_items", "manage_vault"])
    VaultGrant.objects.create(vault=vault, group=groups["Readers"], permissions=["view_items"])
    for user, group in (("Bob", "Ops"), ("Bob", "Readers"), ("Cat", "Owners"), ("Dan", "Administrators"),
                        ("Eve", "Readers"), ("Fay", "Owners-archive")):
        GroupMembership.objects.create(group=groups[group], user=users[user], role="MEMBER")
    history.record_history(account, at=START - datetime.timedelta(days=1))
    return account


def test_privileged_access_counts_manage_rights_through_groups_and_the_builtin_admin_groups():
    account = _privileged_org()

    ev = Evidence(period=Q3, accounts=[account], now=AFTER_Q3)
    holders = {str(h.user): h for h in ev.privileged_access}

    assert sorted(holders) == ["Ann", "Bob", "Cat", "Dan"]
    assert holders["Ann"].manages == (("Production", "direct"),)
    assert holders["Bob"].manages == (("Production", "group Ops"),)  # he also reaches it through Readers: view only
    assert holders["Cat"].admin_groups == ("Owners",)
    assert holders["Dan"].admin_groups == ("Administrators",) and holders["Dan"].inactive
    line = verdicts.evidence_lines(ev)["privileged_access"]
    assert line.available and line.exceptions == 1 and line.rows == "privileged_access"  # Dan, suspended
    assert "4 people hold privileged rights" in line.text


def test_privileged_access_is_no_evidence_before_access_history_starts():
    account = _privileged_org()
    earlier = Period(start=START - datetime.timedelta(days=92), end=START - datetime.timedelta(days=2), label="2026Q2")

    ev = Evidence(period=earlier, accounts=[account], now=AFTER_Q3)

    assert ev.privileged_access == []
    assert not verdicts.evidence_lines(ev)["privileged_access"].available
    assert _verdict(A82, ev) == "No evidence"


# --- A.8.5 secure authentication ------------------------------------------------------------------


def _signins_covering_q3() -> Account:
    account = _account()
    _sign_in(account, START - datetime.timedelta(days=2), "success", "mfa_ok")  # collected since before Q3
    _sign_in(account, START + datetime.timedelta(days=3), "success", "mfa_ok")
    _sign_in(account, START + datetime.timedelta(days=4), "success", "federated")
    for day in (5, 6, 7):
        _sign_in(account, START + datetime.timedelta(days=day), "credentials_failed", "password_secret_bad")
    _sign_in(account, START + datetime.timedelta(days=8), "mfa_failed", "mfa_missing")
    _sign_in(account, START + datetime.timedelta(days=9), "firewall_failed", "continent_blocked")
    return account


def test_secure_authentication_is_effective_when_every_sign_in_passed_mfa_or_sso_whatever_failed():
    account = _signins_covering_q3()

    ev = Evidence(period=Q3, accounts=[account], now=AFTER_Q3)

    assert _verdict(A85, ev) == "Effective"  # five failed attempts are no exception
    assert "2 successful sign-ins: 2 with a second factor or SSO, 0 with password" in verdicts.evidence_lines(ev)["signins_mfa"].text


def test_a_credentials_only_sign_in_is_an_exception_listed_in_the_sign_in_table():
    account = _signins_covering_q3()
    _sign_in(account, START + datetime.timedelta(days=20), "success", "credentials_ok")

    ev = Evidence(period=Q3, accounts=[account], now=AFTER_Q3)
    result = _verdict(A85, ev)

    assert result.label == "Exceptions noted (1)"
    assert result.links == (("single_factor_signins", "Sign-ins without MFA"),)
    assert [row[3] for row in verdicts.signins_section(ev).tables[1].rows()] == ["password and Secret Key only"]


def test_secure_authentication_is_no_evidence_without_sign_in_data_for_the_period():
    account = _account()
    _sign_in(account, START + datetime.timedelta(days=30), "success", "mfa_ok")  # collection began mid-period

    assert _verdict(A85, Evidence(period=Q3, accounts=[account], now=AFTER_Q3)) == "No evidence"


# --- not applicable -------------------------------------------------------------------------------


def test_a_control_declared_not_applicable_says_so_with_the_reason(settings):
    settings.CONTROLS_NOT_APPLICABLE = "CC6.6=1Password is reached only through the corporate VPN; A.8.5 = SSO only"
    account = _account()

    rows = verdicts.control_rows(SOC2_CONTROLS, verdicts.evidence_lines(Evidence(period=Q3, accounts=[account], now=AFTER_Q3)))

    verdict_of = {r[0]: str(r[-1]) for r in rows}
    assert verdict_of["CC6.6"] == "Not applicable: 1Password is reached only through the corporate VPN"
    assert verdict_of["CC7.2"] == "No evidence"


@pytest.mark.parametrize("value", ["CC9.9=no such control", "CC6.6=", "8.2=bare Annex A id"])
def test_a_bad_not_applicable_setting_fails_loudly(settings, value):
    settings.CONTROLS_NOT_APPLICABLE = value
    with pytest.raises(ImproperlyConfigured, match="CONTROLS_NOT_APPLICABLE"):
        verdicts.control_rows(SOC2_CONTROLS, {})


# --- what the reports print -----------------------------------------------------------------------


def test_every_annex_a_id_is_written_with_its_a_prefix():
    assert all(re.fullmatch(r"A\.\d+\.\d+", c.ref) for c in ISO_CONTROLS)


def test_the_iso_report_prints_annex_a_ids_and_cites_the_mapping_document_in_every_format(synced_org):
    now = timezone.now()
    document = build_report(kind="iso27001", period=period_containing(now), generator="tester", now=now)
    section = document.section("controls")

    assert "docs/control-mapping.md" in section.intro
    assert "How to read the verdicts" in section.intro
    html = render_print_html(document)
    for control in ISO_CONTROLS:
        assert f">{control.ref}<" in html
    assert not re.search(r">\s*(5\.1[5-8]|5\.33|8\.[25])\s*<", html)  # never a bare clause number
    out = io.BytesIO()
    render_xlsx(document, out)
    sheet = load_workbook(io.BytesIO(out.getvalue()), read_only=True)["ISO 27001 Annex A"]
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == [c.ref for c in ISO_CONTROLS]


def test_every_verdict_link_in_the_soc2_report_points_at_a_table_of_the_same_report(synced_org):
    now = timezone.now()
    document = build_report(kind="soc2", period=period_containing(now), generator="tester", now=now)
    html = render_print_html(document)

    targets = re.findall(r'href="#(tbl-[a-z_]+)"', html)
    assert targets  # the demo organisation has shared credentials, overdue rotation, single-factor sign-ins
    for target in targets:
        assert f'id="{target}"' in html
    out = io.BytesIO()
    render_xlsx(document, out)
    workbook = load_workbook(io.BytesIO(out.getvalue()), read_only=True)
    named = [str(r[-1]).split(": see ", 1)[1] for r in workbook["SOC 2 criteria"].iter_rows(min_row=2, values_only=True)
             if ": see " in str(r[-1])]
    assert named
    for names in named:
        assert set(names.split("; ")) <= set(workbook.sheetnames)


def test_the_mapping_document_exists_and_covers_every_control():
    text = (Path(django_settings.BASE_DIR) / "docs" / "control-mapping.md").read_text()
    for control in (*SOC2_CONTROLS, *ISO_CONTROLS):
        assert f"### {control.ref} " in text


# --- CC6.2 / A.5.18: access changes need history over the whole period ----------------------------


def test_access_changes_are_evidence_when_history_covers_the_whole_period():
    account = _privileged_org()  # history since the day before Q3
    VaultGrant.objects.filter(user__name="Ann").delete()
    history.record_history(account, at=START + datetime.timedelta(days=10))

    line = verdicts.evidence_lines(Evidence(period=Q3, accounts=[account], now=AFTER_Q3))["access_changes"]

    assert line.available and line.exceptions == 0
    assert "0 changed, 1 removed" in line.text
    assert "not recorded by OpenClaw" in line.text


def test_access_changes_are_no_evidence_when_history_began_inside_the_period():
    account = _account()
    history.record_history(account, at=START + datetime.timedelta(days=10))

    line = verdicts.evidence_lines(Evidence(period=Q3, accounts=[account], now=AFTER_Q3))["access_changes"]

    assert not line.available and line.text.startswith("No evidence")
