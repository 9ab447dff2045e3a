"""Every "Exceptions noted (n)" names a table of the same report holding its rows (issue #13 review):
unclassified vaults, suspended or deleted people still holding access, over-permissioned findings and
the full access inventory are report tables, the workbook has every row; vault access changes say
whether a removal went through OpenClaw's approval gate; the access review line needs a signed-off
review for every account and says which sign-offs were late."""

from __future__ import annotations

import datetime
import io

import pytest
from django.contrib.auth.models import User
from openpyxl import load_workbook

from compliance.controls import Control
from compliance.reports import verdicts
from compliance.reports.builders import build_report
from compliance.reports.document import TOP_ROWS, ReportDocument, Table
from compliance.reports.evidence import Evidence
from compliance.reports.sections import access_changes_section
from compliance.reports.xlsx import render_xlsx
from compliance.reviews.models import AccessReview
from compliance.reviews.periods import Period
from vaults import history
from vaults.cleanup.models import Approval, CleanupPlan, ProposedAction
from vaults.findings import status_history
from vaults.findings.models import SEVERITY_RANK, Finding, HealthSnapshot
from vaults.models import Account, GroupMembership, ItemUsage, OpGroup, OpUser, SignInAttempt, Vault, VaultGrant

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
START = datetime.datetime(2026, 7, 1, tzinfo=UTC)
END = datetime.datetime(2026, 10, 1, tzinfo=UTC)
Q3 = Period(start=START, end=END, label="2026Q3")
AFTER_Q3 = END + datetime.timedelta(days=5)
READERS = 30  # more people than the PDF shows rows, so the workbook must carry the rest


def _account(name: str = "Acme") -> Account:
    return Account.objects.create(name=name, token_env="OP_SERVICE_ACCOUNT_TOKEN", events_url="http://events.invalid",
                                  events_token_env="OP_EVENTS_TOKEN")


def _user(account: Account, name: str, state: str = "ACTIVE") -> OpUser:
    return OpUser.objects.create(account=account, op_id=f"U-{name}", name=name, email=f"{name.lower()}@example.com",
                                 state=state)


def _finding(account: Account, kind: str, title: str, *, becomes: str = "", on: datetime.datetime | None = None,
             **fields: object) -> Finding:
    """An open finding first seen early in Q3, with its status history; `becomes` a status `on` a day."""
    seen = START + datetime.timedelta(days=1)
    fields.setdefault("explanation", f"{title}: why.")
    finding = Finding.objects.create(account=account, kind=kind, severity="high", severity_rank=SEVERITY_RANK["high"],
                                     key=title, title=title, first_seen=seen, last_seen=seen, **fields)
    status_history.record(finding_ids=[finding.pk], at=seen)
    if becomes and on is not None:
        Finding.objects.filter(pk=finding.pk).update(status=becomes, resolved_at=on if becomes == "resolved" else None,
                                                     accepted_at=on if becomes == "accepted" else None)
        status_history.record(finding_ids=[finding.pk], at=on)
    return finding


def _use(account: Account, when: datetime.datetime) -> None:
    ItemUsage.objects.create(account=account, uuid=f"u{ItemUsage.objects.count()}", timestamp=when, user_op_id="U-Ann",
                             user_email="ann@example.com", item_op_id="I1", vault_op_id="v-prod", client_ip="10.0.0.1")


def _sign_in(account: Account, when: datetime.datetime, category: str, kind: str) -> None:
    SignInAttempt.objects.create(account=account, uuid=f"s{SignInAttempt.objects.count()}", timestamp=when,
                                 category=category, attempt_type=kind, user_op_id="U-Ann", user_email="ann@example.com")


def _org_with_every_exception() -> Account:
    """Exceptions: 2 unclassified vaults, 2 suspended/deleted people holding access (Dan on two vaults,
    Gus through a group), 2 open over-permissioned findings, a weak secret, a shared credential, an
    overdue rotation, a night-time use in production, a password-only sign-in, a suspended
    Administrator. Decoys: a classified vault, an active reader, a resolved and an accepted
    over-permissioned finding, a suspended person with no vault access."""
    account = _account()
    prod = Vault.objects.create(account=account, op_id="v-prod", name="Production", classification="production")
    shared = Vault.objects.create(account=account, op_id="v-shared", name="Shared", classification="shared")
    scratch = Vault.objects.create(account=account, op_id="v-scratch", name="Scratch")  # unclassified
    legacy = Vault.objects.create(account=account, op_id="v-legacy", name="Legacy")  # unclassified
    ann, dan, gus = _user(account, "Ann"), _user(account, "Dan", "SUSPENDED"), _user(account, "Gus", "DELETED")
    _user(account, "Ivy", "SUSPENDED")  # suspended, but no vault access: not an exception
    ops = OpGroup.objects.create(account=account, op_id="G-Ops", name="Ops", state="ACTIVE")
    admins = OpGroup.objects.create(account=account, op_id="G-Admins", name="Administrators", state="ACTIVE")
    GroupMembership.objects.create(group=ops, user=gus, role="MEMBER")
    GroupMembership.objects.create(group=admins, user=dan, role="MEMBER")
    VaultGrant.objects.create(vault=prod, user=ann, permissions=["view_items", "edit_items"])
    VaultGrant.objects.create(vault=prod, user=dan, permissions=["view_items"])
    VaultGrant.objects.create(vault=scratch, user=dan, permissions=["view_items", "export_items"])
    VaultGrant.objects.create(vault=legacy, group=ops, permissions=["view_items"])
    for n in range(READERS):
        VaultGrant.objects.create(vault=shared, user=_user(account, f"Reader{n:02d}"), permissions=["view_items"])
    history.record_history(account, at=START - datetime.timedelta(days=1))

    HealthSnapshot.objects.create(account=account, taken_at=START + datetime.timedelta(days=2), score=70, items=10)
    _finding(account, Finding.Kind.OVER_PERMISSIONED, "Over-permissioned: Dan", op_user=dan)
    _finding(account, Finding.Kind.OVER_PERMISSIONED, "Over-permissioned: Ann", op_user=ann,
             explanation="Ann has more access than needed: direct grants with rights beyond need: 'Production' (manage_vault).")
    _finding(account, Finding.Kind.OVER_PERMISSIONED, "Over-permissioned: resolved", op_user=ann,
             becomes=Finding.Status.RESOLVED, on=START + datetime.timedelta(days=10))
    _finding(account, Finding.Kind.OVER_PERMISSIONED, "Over-permissioned: accepted", op_user=ann,
             becomes=Finding.Status.ACCEPTED, on=START + datetime.timedelta(days=5))
    _finding(account, Finding.Kind.WEAK, "Weak: db password")
    _finding(account, Finding.Kind.DUPLICATE, "Shared: api key")
    _finding(account, Finding.Kind.OVERDUE_ROTATION, "Overdue: deploy key")

    _use(account, START - datetime.timedelta(days=3))  # usage measured since before the period
    _use(account, START + datetime.timedelta(days=10, hours=2))  # 02:00 UTC in production
    _sign_in(account, START - datetime.timedelta(days=2), "success", "mfa_ok")
    _sign_in(account, START + datetime.timedelta(days=20), "success", "credentials_ok")
    return account


def _tables(document: ReportDocument) -> dict[str, Table]:
    return {t.key: t for section in document.sections for t in section.tables}


def _people(table: Table) -> set[str]:
    return {str(row[0]) for row in table.rows()}


# What a line's exception count counts in its table: rows, or the people the rows name.
COUNTED_AS_ROWS = ("classification", "over_permissioned", "anomalies", "signins_mfa")
COUNTED_AS_PEOPLE = ("inactive_users",)
EXPECTED_EXCEPTIONS = {"classification": 2, "inactive_users": 2, "over_permissioned": 2, "weak": 1, "duplicates": 1,
                       "rotation": 1, "anomalies": 1, "signins_mfa": 1, "privileged_access": 1}


@pytest.mark.parametrize("kind", ["soc2", "iso27001"])
def test_every_exception_line_links_a_table_of_the_same_report_holding_its_rows(kind):
    account = _org_with_every_exception()
    lines = verdicts.evidence_lines(Evidence(period=Q3, accounts=[account], now=AFTER_Q3))
    document = build_report(kind=kind, period=Q3, accounts=[account], generator="tester", now=AFTER_Q3)
    tables = _tables(document)

    exceptions = {key: line.exceptions for key, line in lines.items() if line.available and line.exceptions}
    assert exceptions == EXPECTED_EXCEPTIONS
    for key in exceptions:
        assert lines[key].rows in tables, (key, lines[key].rows)
    for key in COUNTED_AS_ROWS:
        assert len(list(tables[str(lines[key].rows)].rows())) == lines[key].exceptions, key
    for key in COUNTED_AS_PEOPLE:
        assert len(_people(tables[str(lines[key].rows)])) == lines[key].exceptions, key
    # every verdict of the control table links only tables present in this document
    for row in document.section("controls").tables[0].top:
        verdict = row[-1]
        assert isinstance(verdict, verdicts.Verdict)
        if verdict.label.startswith("Exceptions noted"):
            assert verdict.links, row[0]
        for key, _ in verdict.links:
            assert key in tables, (row[0], key)


def test_the_new_tables_hold_exactly_the_exception_rows_and_not_the_decoys():
    account = _org_with_every_exception()
    tables = _tables(build_report(kind="soc2", period=Q3, accounts=[account], generator="tester", now=AFTER_Q3))

    assert [r[0] for r in tables["unclassified_vaults"].rows()] == ["Legacy", "Scratch"]
    inactive = [(r[0], r[2], r[3], r[4], r[5]) for r in tables["inactive_user_access"].rows()]
    assert sorted(inactive) == [
        ("Dan", "Suspended", "Production", "View items", "direct"),
        ("Dan", "Suspended", "Scratch", "View items, Export items", "direct"),
        ("Gus", "Deleted", "Legacy", "View items", "group Ops"),
    ]
    assert sorted(str(r[0]) for r in tables["over_permissioned"].rows()) == ["Ann", "Dan"]
    assert all("_" not in str(r[4]) for r in tables["inactive_user_access"].rows())  # permissions in words
    ann = next(r for r in tables["over_permissioned"].rows() if r[0] == "Ann")
    assert "(Manage vault)" in str(ann[3]) and "manage_vault" not in str(ann[3])


def test_the_access_inventory_lists_every_access_in_the_workbook_and_the_first_rows_in_the_pdf():
    account = _org_with_every_exception()
    document = build_report(kind="iso27001", period=Q3, accounts=[account], generator="tester", now=AFTER_Q3)
    inventory = _tables(document)["access_inventory"]
    accesses = 2 + 1 + 1 + READERS  # Ann and Dan on Production, Dan on Scratch, Gus on Legacy, the readers

    assert inventory.total == accesses and len(inventory.top) == TOP_ROWS
    out = io.BytesIO()
    render_xlsx(document, out)
    workbook = load_workbook(io.BytesIO(out.getvalue()), read_only=True)
    sheet = list(workbook["Access inventory"].iter_rows(min_row=2, values_only=True))
    assert len(sheet) == accesses
    assert {row[0] for row in sheet} >= {"Reader00", f"Reader{READERS - 1:02d}", "Gus"}
    line = verdicts.evidence_lines(Evidence(period=Q3, accounts=[account], now=AFTER_Q3))["access_inventory"]
    assert f"{accesses} user-vault accesses" in line.text and line.rows == "access_inventory"


def test_a_line_without_exceptions_links_nothing_even_when_it_names_its_table():
    account = _org_with_every_exception()
    lines = verdicts.evidence_lines(Evidence(period=Q3, accounts=[account], now=AFTER_Q3))
    inventory_only = Control("test", "T.1", "Inventory", "r", "s", ("access_inventory", "export_rights"))

    assert lines["access_inventory"].rows == "access_inventory" and lines["access_inventory"].exceptions == 0
    result = verdicts.verdict(inventory_only, lines, {})
    assert result == "Effective" and result.links == ()


def test_an_organisation_without_access_exceptions_has_empty_exception_tables():
    account = _account("Clean")
    vault = Vault.objects.create(account=account, op_id="v1", name="Production", classification="production")
    VaultGrant.objects.create(vault=vault, user=_user(account, "Ann"), permissions=["view_items"])
    history.record_history(account, at=START - datetime.timedelta(days=1))

    lines = verdicts.evidence_lines(Evidence(period=Q3, accounts=[account], now=AFTER_Q3))
    tables = _tables(build_report(kind="soc2", period=Q3, accounts=[account], generator="tester", now=AFTER_Q3))

    assert lines["classification"].exceptions == 0 and lines["inactive_users"].exceptions == 0
    assert tables["unclassified_vaults"].total == 0 and tables["inactive_user_access"].total == 0
    assert tables["access_inventory"].total == 1


# --- CC6.2: did a removal go through OpenClaw's approval gate? -----------------------------------


def _revocation(account: Account, vault: Vault, user: OpUser, *, finished: datetime.datetime, approver: User,
                proposer: User, status: str = ProposedAction.Status.DONE) -> ProposedAction:
    plan = CleanupPlan.objects.create(account=account, title="Right-size", proposed_by=proposer)
    action = ProposedAction.objects.create(plan=plan, kind=ProposedAction.Kind.REVOKE_USER, status=status,
                                           identity=ProposedAction.Identity.SERVICE_ACCOUNT, vault=vault, op_user=user,
                                           finished_at=finished)
    Approval.objects.create(action=action, approver=approver, decision=Approval.Decision.APPROVE, created_at=finished)
    return action


def test_each_removal_says_whether_an_approved_cleanup_action_made_it_and_grants_say_not_recorded():
    account = _account()
    vault = Vault.objects.create(account=account, op_id="v1", name="Production", classification="production")
    people = {name: _user(account, name) for name in ("Ann", "Bob", "Cat", "Dan", "Eve", "Fay")}
    for name in ("Ann", "Bob", "Cat", "Dan"):
        VaultGrant.objects.create(vault=vault, user=people[name], permissions=["view_items", "edit_items"])
    history.record_history(account, at=START - datetime.timedelta(days=1))
    proposer, approver = User.objects.create_user("lead"), User.objects.create_user("approver")
    seen = START + datetime.timedelta(days=6)
    approved = _revocation(account, vault, people["Ann"], finished=seen - datetime.timedelta(hours=1),
                           approver=approver, proposer=proposer)
    # decoys: Cat's action finished after the sync saw the removal; Dan's was approved by its proposer only;
    # Fay's action ran for another vault's grant; Bob's access just disappeared in 1Password
    _revocation(account, vault, people["Cat"], finished=seen + datetime.timedelta(days=3), approver=approver,
                proposer=proposer)
    _revocation(account, vault, people["Dan"], finished=seen - datetime.timedelta(hours=2), approver=proposer,
                proposer=proposer)
    VaultGrant.objects.filter(user__name__in=["Ann", "Bob", "Cat"]).delete()
    VaultGrant.objects.filter(user__name="Dan").update(permissions=["view_items"])  # a reduction
    VaultGrant.objects.create(vault=vault, user=people["Eve"], permissions=["view_items"])  # a grant
    history.record_history(account, at=seen)

    ev = Evidence(period=Q3, accounts=[account], now=AFTER_Q3)
    section = access_changes_section(ev)
    table = section.tables[0]
    through = {str(row[2]): row[-1] for row in table.rows()}

    assert table.columns[-1].title == "Through OpenClaw"
    assert through == {
        "Ann": f"yes: cleanup action #{approved.pk}, approved by approver",
        "Bob": "not through OpenClaw",
        "Cat": "not through OpenClaw",
        "Dan": "not through OpenClaw",
        "Eve": "not recorded (granted in 1Password)",
    }
    line = verdicts.evidence_lines(ev)["access_changes"]
    assert "1 of 4 removals and reductions ran as OpenClaw cleanup actions approved by a second person" in line.text


def test_a_group_revocation_counts_for_the_people_who_held_the_access_through_that_group():
    account = _account()
    vault = Vault.objects.create(account=account, op_id="v1", name="Production", classification="production")
    ann = _user(account, "Ann")
    ops = OpGroup.objects.create(account=account, op_id="G-Ops", name="Ops", state="ACTIVE")
    GroupMembership.objects.create(group=ops, user=ann, role="MEMBER")
    VaultGrant.objects.create(vault=vault, group=ops, permissions=["view_items"])
    history.record_history(account, at=START - datetime.timedelta(days=1))
    proposer, approver = User.objects.create_user("lead"), User.objects.create_user("approver")
    plan = CleanupPlan.objects.create(account=account, title="Right-size", proposed_by=proposer)
    seen = START + datetime.timedelta(days=6)
    action = ProposedAction.objects.create(plan=plan, kind=ProposedAction.Kind.REVOKE_GROUP,
                                           status=ProposedAction.Status.VERIFIED, identity=ProposedAction.Identity.MANUAL,
                                           vault=vault, op_group=ops, manual_done_at=seen - datetime.timedelta(hours=3))
    Approval.objects.create(action=action, approver=approver, decision=Approval.Decision.APPROVE, created_at=START)
    VaultGrant.objects.filter(group=ops).delete()
    history.record_history(account, at=seen)

    rows = list(access_changes_section(Evidence(period=Q3, accounts=[account], now=AFTER_Q3)).tables[0].rows())

    assert [(r[2], r[-1]) for r in rows] == [("Ann", f"yes: cleanup action #{action.pk}, approved by approver")]


def test_a_group_membership_removal_counts_for_that_person_on_every_vault_of_the_group():
    account = _account()
    prod = Vault.objects.create(account=account, op_id="v1", name="Production", classification="production")
    stage = Vault.objects.create(account=account, op_id="v2", name="Staging")
    ann, bob = _user(account, "Ann"), _user(account, "Bob")
    ops = OpGroup.objects.create(account=account, op_id="G-Ops", name="Ops", state="ACTIVE")
    for person in (ann, bob):
        GroupMembership.objects.create(group=ops, user=person, role="MEMBER")
    for vault in (prod, stage):
        VaultGrant.objects.create(vault=vault, group=ops, permissions=["view_items"])
    history.record_history(account, at=START - datetime.timedelta(days=1))
    proposer, approver = User.objects.create_user("lead"), User.objects.create_user("approver")
    plan = CleanupPlan.objects.create(account=account, title="Offboard Ann", proposed_by=proposer)
    seen = START + datetime.timedelta(days=6)
    action = ProposedAction.objects.create(plan=plan, kind=ProposedAction.Kind.REMOVE_GROUP_MEMBER,
                                           status=ProposedAction.Status.VERIFIED, identity=ProposedAction.Identity.MANUAL,
                                           vault=None, op_user=ann, op_group=ops,
                                           manual_done_at=seen - datetime.timedelta(hours=3))
    Approval.objects.create(action=action, approver=approver, decision=Approval.Decision.APPROVE, created_at=START)
    # Decoy: Bob left the group in 1Password by hand in the same sync; Ann's action does not cover him.
    GroupMembership.objects.filter(group=ops).delete()
    history.record_history(account, at=seen)

    rows = list(access_changes_section(Evidence(period=Q3, accounts=[account], now=AFTER_Q3)).tables[0].rows())

    by_person_vault = {(str(r[2]), str(r[4])): r[-1] for r in rows}
    gated = f"yes: cleanup action #{action.pk}, approved by approver"
    assert {k: v for k, v in by_person_vault.items() if k[0] == "Ann"} == {("Ann", "Production"): gated,
                                                                         ("Ann", "Staging"): gated}
    assert {v for k, v in by_person_vault.items() if k[0] == "Bob"} == {"not through OpenClaw"}


# --- access reviews: every account, and sign-off timeliness -----------------------------------------


def _review(account: Account, *, signed_off_at: datetime.datetime | None, title: str = "Q3 review") -> AccessReview:
    person = User.objects.create_user(username=f"officer{AccessReview.objects.count()}")
    status = AccessReview.Status.SIGNED_OFF if signed_off_at else AccessReview.Status.OPEN
    return AccessReview.objects.create(account=account, title=title, period="2026Q3", period_start=START, period_end=END,
                                       opened_by=person, opened_at=START, status=status,
                                       signed_off_by=person if signed_off_at else None, signed_off_at=signed_off_at)


def test_a_signed_off_review_of_one_account_is_no_evidence_for_another_account_in_the_report():
    acme, beta = _account("Acme"), _account("Beta")
    _review(acme, signed_off_at=END + datetime.timedelta(days=3))

    line = verdicts.evidence_lines(Evidence(period=Q3, accounts=[acme, beta], now=AFTER_Q3))["access_reviews"]
    only_acme = verdicts.evidence_lines(Evidence(period=Q3, accounts=[acme], now=AFTER_Q3))["access_reviews"]

    assert not line.available and "no signed-off access review covers this period for Beta" in line.text
    assert only_acme.available  # decoy: the same review is evidence for its own account


def test_both_accounts_signed_off_is_evidence_and_each_sign_off_is_dated_against_the_period_end():
    acme, beta = _account("Acme"), _account("Beta")
    _review(acme, signed_off_at=END + datetime.timedelta(days=10), title="Acme Q3")
    _review(beta, signed_off_at=END + datetime.timedelta(days=45), title="Beta Q3")
    now = END + datetime.timedelta(days=50)

    line = verdicts.evidence_lines(Evidence(period=Q3, accounts=[acme, beta], now=now))["access_reviews"]

    assert line.available and line.exceptions == 0  # lateness is a note, not an exception
    assert "“Acme Q3” (Acme) signed off 2026-10-11, 10 days after its period ended;" in line.text
    assert "“Beta Q3” (Beta) signed off 2026-11-15, 45 days after its period ended (late)" in line.text
    assert "1 late (more than 30 days" in line.text


def test_a_missing_sign_off_is_late_only_once_thirty_days_have_passed():
    acme = _account("Acme")
    _review(acme, signed_off_at=None)

    early = verdicts.evidence_lines(Evidence(period=Q3, accounts=[acme], now=END + datetime.timedelta(days=10)))
    late = verdicts.evidence_lines(Evidence(period=Q3, accounts=[acme], now=END + datetime.timedelta(days=31)))

    assert "“Q3 review” not signed off yet (due by 2026-10-31); 0 late" in early["access_reviews"].text
    assert "“Q3 review” not signed off (late); 1 late" in late["access_reviews"].text
    assert not late["access_reviews"].available
