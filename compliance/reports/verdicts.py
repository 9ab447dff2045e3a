"""Control verdicts for the SOC 2 and ISO 27001 reports: the evidence lines one `Evidence`
yields, the verdict rules, and the control mapping section.

Verdicts (the same words in every format):
1. Not applicable — the organisation declared the control out of scope (CONTROLS_NOT_APPLICABLE),
   with its reason.
2. Exceptions noted (n) — n rows in the period breach the policy, counted only from lines that
   have data; the verdict names the tables (PDF: links, Excel: sheet names) holding the rows.
3. No evidence — some evidence line of the control has no data for the period: item usage not
   measured over all of it, findings not computed by its end, no signed-off access review, no
   access history, no sign-in data, OpenClaw not yet recording. A period without data is never a
   pass.
4. Effective — every line had data for the period and none reported an exception.
Undecided review entries are "open": shown, never counted as exceptions.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from compliance.controls import MAPPING_DOCUMENT, Control, not_applicable
from compliance.reports import break_glass, offboarding_evidence
from compliance.reports.approval_gate import GRANTED, NOT_THROUGH, gate_labels
from compliance.reports.document import Cell, Column, Kpi, Section, table
from compliance.reports.evidence import Evidence
from compliance.reports.models import ReportArtifact
from compliance.reports.sections import lazy_table
from compliance.reports.xlsx import SHEET_NAMES
from compliance.reviews.models import AccessReview
from openclaw_web.access_audit import ROLE_CHANGE_ACTIONS
from openclaw_web.text import plural
from vaults.findings.models import Finding
from vaults.models import SignInAttempt

# Item-usage actions of the Events API that move an item's content out of its vault.
REMOVAL_ACTIONS = ("export", "share")
REMOVAL_PERMISSIONS = frozenset({"export_items", "print_items", "copy_and_share_items"})

EFFECTIVE, EXCEPTIONS, NO_EVIDENCE, NOT_APPLICABLE = "Effective", "Exceptions noted", "No evidence", "Not applicable"
VERDICT_MEANING = {
    EFFECTIVE: "every evidence line had data for the whole period and none reported an exception",
    EXCEPTIONS: "rows in the period breach the policy; the verdict names the table (Excel: sheet) holding them",
    NO_EVIDENCE: "at least one evidence line has no data for the period (never read as a pass)",
    NOT_APPLICABLE: "declared out of scope by the organisation, with the reason",
}


@dataclass(frozen=True)
class EvidenceLine:
    """One evidence item for the period: its sentence, how many rows breach the policy, whether the
    period has data for it at all, and the key of the report table holding the rows."""

    text: str
    exceptions: int = 0
    available: bool = True
    rows: str | None = None


class Verdict(str):
    """A control's verdict. A plain string for every renderer (Excel writes "Exceptions noted (3):
    see Violations"); `label` and `links` ((table key, sheet name), ...) let the PDF link the names."""

    label: str
    links: tuple[tuple[str, str], ...]

    def __new__(cls, label: str, links: Sequence[tuple[str, str]] = ()) -> Verdict:
        names = "; ".join(name for _, name in links)
        verdict = super().__new__(cls, f"{label}: see {names}" if names else label)
        verdict.label, verdict.links = label, tuple(links)
        return verdict


def table_name(key: str) -> str:
    """What a reader looks for: the Excel sheet name of the table, also the link text in the PDF."""
    return SHEET_NAMES.get(key, key.replace("_", " ").capitalize())


def verdict(control: Control, lines: dict[str, EvidenceLine], declared: dict[str, str]) -> Verdict:
    """The verdict rules of the module docstring, in their order."""
    if control.ref in declared:
        return Verdict(f"{NOT_APPLICABLE}: {declared[control.ref]}")
    found = [lines.get(key) for key in control.evidence]
    with_data = [line for line in found if line is not None and line.available]
    exceptions = sum(line.exceptions for line in with_data)
    if exceptions:
        keys = dict.fromkeys(line.rows for line in with_data if line.exceptions and line.rows)
        return Verdict(f"{EXCEPTIONS} ({exceptions:,})", [(key, table_name(key)) for key in keys])
    if not found or len(with_data) < len(found):
        return Verdict(NO_EVIDENCE)
    return Verdict(EFFECTIVE)


# --- evidence lines ------------------------------------------------------------------------------


NO_ACCESS_HISTORY = "no access history covers this period"
NO_FINDINGS = "findings were not computed by the end of this period"
NO_USAGE = "item usage was not measured over the whole period (see Usage data coverage)"
NO_SIGNINS = "sign-in attempts were not collected over the whole period (Events API)"
NO_AUDIT = "OpenClaw was not recording yet in this period"
# An access review is signed off within this many days of the end of the period it reviews (the
# review is due then); later, or still unsigned then, it is called late in the report.
SIGN_OFF_DUE_DAYS = 30


def _line(available: bool, text: str, missing: str, exceptions: int = 0, rows: str | None = None) -> EvidenceLine:
    if not available:
        return EvidenceLine(f"No evidence: {missing}.", 0, False, rows)
    return EvidenceLine(text, exceptions, True, rows)


def _access_lines(ev: Evidence) -> dict[str, EvidenceLine]:
    if not ev.has_access_history:
        return {key: _line(False, "", NO_ACCESS_HISTORY) for key in
                ("access_inventory", "classification", "inactive_users", "export_rights", "privileged_access",
                 "access_changes")}
    # With history every figure is a count; None only stands for "no history", handled above.
    access = {key: value or 0 for key, value in ev.access_figures.items()}
    removers = {(r.user.account_id, r.user.op_id) for r in ev.access if r.permissions & REMOVAL_PERMISSIONS}
    holders = ev.privileged_access
    managers = [h for h in holders if h.manages]
    via_groups_only = sum(1 for h in managers if not any(path.startswith("direct") for _, path in h.manages))
    admins = sum(1 for h in holders if h.admin_groups)
    inactive = sum(1 for h in holders if h.inactive)
    return {
        "access_inventory": _line(True, f"{plural(access['users_with_access'], 'person holds', 'people hold')} "
                                  f"{plural(access['access_pairs'], 'user-vault access', 'user-vault accesses')} over "
                                  f"{plural(access['vaults'], 'vault', 'vaults')} (direct and via groups).", "",
                                  rows="access_inventory"),
        "classification": _line(True, f"{access['vaults'] - access['unclassified_vaults']:,} of "
                                f"{plural(access['vaults'], 'vault', 'vaults')} classified.", "",
                                access["unclassified_vaults"], "unclassified_vaults"),
        "inactive_users": _line(True, f"{plural(access['inactive_with_access'], 'suspended or deleted user still holds', 'suspended or deleted users still hold')} "
                                "vault access.", "", access["inactive_with_access"], "inactive_user_access"),
        "export_rights": _line(True, f"{plural(len(removers), 'person', 'people')} can export, print or share items "
                               "from at least one vault.", ""),
        "privileged_access": _line(True, f"{plural(len(holders), 'person holds', 'people hold')} privileged rights: "
                                   f"{len(managers):,} manage vaults ({via_groups_only:,} only through groups), "
                                   f"{admins:,} in Owners or Administrators; {inactive:,} of them suspended or deleted.",
                                   "", inactive, "privileged_access"),
        "access_changes": _access_changes_line(ev),
    }


def _access_changes_line(ev: Evidence) -> EvidenceLine:
    """Access granted, modified and removed in 1Password in the period (the access history), and
    how many removals were OpenClaw cleanup actions approved by a second person. Grants are never
    made through OpenClaw, so their authorisation is not in its records. Evidence only when the
    history covers the whole period: changes before it began are unknown."""
    kinds = ev.access_change_counts
    whole = bool(ev.accounts) and all(since is not None and since <= ev.period.start for since in ev.history_since.values())
    if kinds is None or not whole:
        return _line(False, "", "access history does not cover the whole period")
    gates = gate_labels(ev.access_changes() or [], ev.accounts, ev.period.start, ev.period.end)
    reductions = [gate for gate in gates if gate != GRANTED]
    through = sum(1 for gate in reductions if gate != NOT_THROUGH)
    return _line(True, f"In 1Password during the period: {plural(kinds['granted'], 'access granted', 'accesses granted')}, "
                 f"{kinds['modified']:,} changed, {kinds['removed']:,} removed; {through:,} of "
                 f"{plural(len(reductions), 'removal or reduction', 'removals and reductions')} ran as OpenClaw cleanup "
                 "actions approved by a second person (column Through OpenClaw). Authorisation of grants made in "
                 "1Password is not recorded by OpenClaw.", "", rows="vault_access_changes")


def _findings_lines(ev: Evidence) -> dict[str, EvidenceLine]:
    ok = ev.findings_computed
    kinds = ev.open_by_kind
    over = kinds.get(Finding.Kind.OVER_PERMISSIONED, 0)
    weak = kinds.get(Finding.Kind.WEAK, 0)
    dup = kinds.get(Finding.Kind.DUPLICATE, 0)
    return {
        "over_permissioned": _line(ok, f"{plural(over, 'open over-permissioned finding', 'open over-permissioned findings')}.",
                                   NO_FINDINGS, over, "over_permissioned"),
        "weak": _line(ok, f"{plural(weak, 'weak secret', 'weak secrets')} open.", NO_FINDINGS, weak, "violations"),
        "duplicates": _line(ok, f"{plural(dup, 'shared-credential group', 'shared-credential groups')} open.",
                            NO_FINDINGS, dup, "violations"),
        "rotation": _rotation_line(ev, ok),
    }


def _rotation_line(ev: Evidence, findings_computed: bool) -> EvidenceLine:
    """Overdue credentials need the findings; how many credentials rotate at all needs the item history."""
    rot = ev.rotation
    subject, compliant, overdue = rot["subject"], rot["compliant"], rot["overdue"] or 0
    if subject is None or compliant is None:
        return _line(False, "", NO_ACCESS_HISTORY)
    return _line(findings_computed, f"{compliant:,} of {plural(subject, 'rotating credential', 'rotating credentials')} "
                 f"within policy; {overdue:,} overdue.", NO_FINDINGS, overdue, "rotation")


def _review_lines(ev: Evidence) -> dict[str, EvidenceLine]:
    """A review line has evidence only when every account of the report has a signed-off review
    overlapping the period: one account's review says nothing about another's access."""
    r = ev.review_figures
    open_entries = r["total"] - r["decided"]
    reviews = list(ev.reviews())
    signed = {review.account_id for review in reviews if review.status == AccessReview.Status.SIGNED_OFF}
    unreviewed = [account.name for account in ev.accounts if account.pk not in signed]
    ok = bool(ev.accounts) and not unreviewed
    timeliness = _sign_off_timeliness(ev, reviews)
    if not r["reviews"]:
        state = "no access review covers this period"
    elif not signed:
        state = (f"{plural(r['reviews'], 'access review covers', 'access reviews cover')} this period, none signed off; "
                 f"{r['decided']:,} of {plural(r['total'], 'entry', 'entries')} decided, {open_entries:,} open{timeliness}")
    else:
        state = f"no signed-off access review covers this period for {', '.join(unreviewed)}{timeliness}"
    return {
        "access_reviews": _line(ok, f"{plural(r['reviews'], 'access review covers', 'access reviews cover')} this period, "
                                f"{r['signed_off']:,} signed off; {r['decided']:,} of {plural(r['total'], 'entry', 'entries')} "
                                f"decided, {open_entries:,} open (undecided, not an exception){timeliness}.", state,
                                rows="reviews"),
        "review_changes": _line(ok, f"{plural(r['revoke'], 'revocation', 'revocations')} and "
                                f"{plural(r['change'], 'permission change', 'permission changes')} decided; "
                                f"{r['actions']:,} became cleanup actions behind the two-person approval.",
                                state, rows="review_changes"),
    }


def _sign_off_timeliness(ev: Evidence, reviews: Sequence[AccessReview]) -> str:
    """Per review, its sign-off against the end of the period it reviews, and how many are late:
    signed off more than SIGN_OFF_DUE_DAYS after that end, or still unsigned once that time has
    passed. A note for the auditor, not an exception: no criterion sets the delay."""
    if not reviews:
        return ""
    names = {account.pk: account.name for account in ev.accounts}
    several = len(names) > 1
    notes, late = [], 0
    for review in reviews:
        due = review.period_end + datetime.timedelta(days=SIGN_OFF_DUE_DAYS)
        label = f"“{review.title}”" + (f" ({names.get(review.account_id, '')})" if several else "")
        if review.signed_off_at is not None:
            days = (review.signed_off_at - review.period_end).days
            when = f"{days:,} days after its period ended" if days >= 0 else "before its period ended"
            is_late = review.signed_off_at > due
            notes.append(f"{label} signed off {review.signed_off_at:%Y-%m-%d}, {when}" + (" (late)" if is_late else ""))
        else:
            is_late = ev.now > due
            notes.append(f"{label} not signed off" + (" (late)" if is_late else f" yet (due by {due:%Y-%m-%d})"))
        late += is_late
    return (f". Sign-off: {'; '.join(notes)}; {late:,} late (more than {SIGN_OFF_DUE_DAYS} days after the period's "
            "end, or missing then: a note, not an exception)")


def _usage_lines(ev: Evidence) -> dict[str, EvidenceLine]:
    ok = ev.usage_covers_period
    usage = ev.usage_figures
    anomalies = len(ev.anomalies)
    removal = ev.usage().filter(action__in=REMOVAL_ACTIONS).count()
    return {
        "usage_monitoring": _line(ok, f"{plural(usage['events'], 'item-usage event', 'item-usage events')} from the Events "
                                  "API analysed for anomalies.", NO_USAGE),
        "anomalies": _line(ok, f"{plural(anomalies, 'access anomaly', 'access anomalies')} in production vaults.", NO_USAGE,
                           anomalies, "anomalies"),
        "removal_usage": _line(ok, f"{plural(removal, 'item export or share', 'item exports or shares')} in the period.",
                               NO_USAGE),
    }


def _signin_lines(ev: Evidence) -> dict[str, EvidenceLine]:
    ok = ev.signins_cover_period
    s = ev.signin_methods
    failed = s["total"] - s["success"] - s["firewall_reported"]
    other = s["success"] - s["strong"] - s["credentials_only"]
    return {
        "signins_mfa": _line(ok, f"{plural(s['success'], 'successful sign-in', 'successful sign-ins')}: {s['strong']:,} with a "
                             f"second factor or SSO, {s['credentials_only']:,} with password and Secret Key only"
                             + (f", {other:,} by another method" if other else "")
                             + f"; {plural(failed, 'failed attempt', 'failed attempts')} (not exceptions).",
                             NO_SIGNINS, s["credentials_only"], "single_factor_signins"),
        "signins_firewall": _line(ok, f"{plural(s['firewall_blocked'], 'sign-in attempt', 'sign-in attempts')} blocked by "
                                  f"1Password firewall rules; {s['firewall_reported']:,} let through by a rule in "
                                  "report-only mode.", NO_SIGNINS, s["firewall_reported"], "single_factor_signins"),
    }


def _openclaw_lines(ev: Evidence) -> dict[str, EvidenceLine]:
    ok = ev.audit_log_covers_period
    entries, newest = ev.audit_at_end
    problems = len(ev.audit_chain.problems) + len(ev.audit_anchors.problems)
    artifacts = (ReportArtifact.objects.filter(status=ReportArtifact.Status.DONE, created_at__lt=ev.as_of)
                 .exclude(sha256="").count())
    cleanup = sum(1 for _ in (ev.cleanup_done() or []))
    return {
        "audit_log": _line(ok, f"Audit log by the period's end: {plural(entries, 'entry', 'entries')}, the newest "
                           f"#{newest.seq} (HMAC {newest.head[:16]}…). At generation the chain and its anchors "
                           + ("verified intact." if ev.audit_intact else f"FAILED verification ({plural(problems, 'problem', 'problems')}: "
                              "run manage.py verify_audit_log)."), NO_AUDIT, 0 if ev.audit_intact else max(problems, 1)),
        "artifacts": _line(ok, f"{plural(artifacts, 'report artifact', 'report artifacts')} stored with SHA-256 by the "
                           "period's end.", NO_AUDIT),
        "cleanup": _line(ok, f"{plural(cleanup, 'cleanup action', 'cleanup actions')} completed in the period, each "
                         "approved by a second person.", NO_AUDIT),
        "openclaw_access_changes": _line(ok, _own_access_line(ev), NO_AUDIT),
    }


def _own_access_line(ev: Evidence) -> str:
    counts = ev.own_access_change_counts
    total = sum(counts.values())
    if not total:
        return "OpenClaw's own accounts: no access changes in the period."
    roles = sum(counts.get(a, 0) for a in ROLE_CHANGE_ACTIONS)
    return (f"OpenClaw's own accounts: {plural(total, 'access change', 'access changes')} in the audit log, {roles:,} of "
            "them role changes (listed in “OpenClaw's own access changes”).")


def evidence_lines(ev: Evidence) -> dict[str, EvidenceLine]:
    """Evidence key -> its line for the period (keys named by `Control.evidence`)."""
    return {**_access_lines(ev), **_findings_lines(ev), **_review_lines(ev), **_usage_lines(ev), **_signin_lines(ev),
            **_openclaw_lines(ev), **_offboarding_lines(ev), **_break_glass_lines(ev)}


def _offboarding_lines(ev: Evidence) -> dict[str, EvidenceLine]:
    available, text, breaches = offboarding_evidence.evidence_line_parts(ev)
    returned, returned_text, flagged = offboarding_evidence.asset_return_line_parts(ev)
    return {"offboarding": EvidenceLine(text, breaches, available, offboarding_evidence.KEY if breaches else None),
            "asset_return": EvidenceLine(returned_text, flagged, returned, offboarding_evidence.KEY if flagged else None)}


def _break_glass_lines(ev: Evidence) -> dict[str, EvidenceLine]:
    available, text, breaches = break_glass.evidence_line_parts(ev)
    return {"break_glass": EvidenceLine(text, breaches, available, break_glass.KEY if breaches else None)}


# --- the control section -------------------------------------------------------------------------

CONTROL_COLUMNS = [Column("Control", "id", 11), Column("Title", width=26), Column("Statement", width=60, max_chars=900),
                   Column("Evidence this period", width=70, max_chars=1200), Column("Verdict", width=28)]


def control_rows(controls: Sequence[Control], lines: dict[str, EvidenceLine]) -> list[tuple[Cell, ...]]:
    declared = not_applicable()
    rows: list[tuple[Cell, ...]] = []
    for control in controls:
        found = [lines[key] for key in control.evidence if key in lines]
        statement = control.statement + (f" Not shown by OpenClaw: {control.elsewhere}" if control.elsewhere else "")
        rows.append((control.ref, control.title, statement, " ".join(line.text for line in found),
                     verdict(control, lines, declared)))
    return rows


def control_section(key: str, title: str, intro: str, controls: Sequence[Control], ev: Evidence) -> Section:
    rows = control_rows(controls, evidence_lines(ev))
    counts = {word: sum(1 for row in rows if str(row[-1]).startswith(word)) for word in VERDICT_MEANING}
    return Section(
        key=key, title=title,
        intro=(f"{intro} How to read the verdicts: {EFFECTIVE} — {VERDICT_MEANING[EFFECTIVE]}; {EXCEPTIONS} (n) — "
               f"{VERDICT_MEANING[EXCEPTIONS]}; {NO_EVIDENCE} — {VERDICT_MEANING[NO_EVIDENCE]}; {NOT_APPLICABLE} — "
               f"{VERDICT_MEANING[NOT_APPLICABLE]}. Undecided access review entries are open, not exceptions. Which "
               f"evidence supports which control, and why, is set out in OpenClaw's {MAPPING_DOCUMENT}."),
        kpis=[Kpi(word, str(n), VERDICT_MEANING[word]) for word, n in counts.items()],
        tables=[table(key, title, CONTROL_COLUMNS, rows)],
    )


# --- the rows behind the sign-in and privileged-access lines -------------------------------------


SIGNIN_COLUMNS = [Column("When (UTC)", "datetime", 18), Column("User", width=28), Column("E-mail", width=30, in_pdf=False),
                  Column("Result", width=28), Column("IP address", width=18), Column("Country", width=14)]


def _signin_row(a: SignInAttempt) -> tuple[Cell, ...]:
    result = "report-only firewall rule" if a.category == "firewall_reported_success" else "password and Secret Key only"
    return (a.timestamp, a.user_name or a.user_email or a.user_op_id, a.user_email, result, a.client_ip, a.country)


def signins_section(ev: Evidence) -> Section:
    s = ev.signin_methods
    methods: list[tuple[Cell, ...]] = [
        ("Signed in with a second factor or SSO", s["strong"]),
        ("Signed in with password and Secret Key only", s["credentials_only"]),
        ("Signed in by another method", s["success"] - s["strong"] - s["credentials_only"]),
        ("Let through by a report-only firewall rule", s["firewall_reported"]),
        ("Blocked by a firewall rule", s["firewall_blocked"]),
        ("Other failed attempts", s["total"] - s["success"] - s["firewall_reported"] - s["firewall_blocked"]),
    ]
    weak = ev.single_factor_signins()
    coverage = ("" if ev.signins_cover_period else
                " Sign-in attempts were not collected over the whole period, so these counts are no evidence for it.")
    return Section(
        key="signins", title="Sign-ins to 1Password",
        intro=("Sign-in attempts from the 1Password Events API by how they ended. A sign-in with password and Secret "
               "Key only passed no second factor and no SSO; 1Password asks for the second factor on new devices, so "
               "the enforcement setting in its admin console tells whether each one was allowed by policy." + coverage),
        tables=[
            table("signin_methods", "Sign-ins by method", [Column("How the attempt ended", width=48),
                  Column("Attempts", "int", 12)], methods),
            lazy_table("single_factor_signins", "Sign-ins without a second factor", SIGNIN_COLUMNS,
                       total=weak.count(), query=weak, convert=_signin_row),
        ],
    )


def privileged_access_section(ev: Evidence) -> Section:
    holders = ev.privileged_access
    rows: list[tuple[Cell, ...]] = [
        (str(h.user), h.user.email, "inactive" if h.inactive else "active", ", ".join(h.admin_groups),
         "; ".join(f"{vault} ({path})" for vault, path in h.manages))
        for h in holders
    ]
    note = "" if ev.has_access_history else " No access history covers this period: this is no evidence for it."
    return Section(
        key="privileged", title="Privileged access",
        intro=("Everyone who can manage a vault (decide who else gets access), through a direct grant or a group, and "
               "the members of 1Password's built-in Owners and Administrators groups, who administer the whole "
               "account." + note),
        kpis=[Kpi("Privileged people", str(len(holders))),
              Kpi("Suspended or deleted", str(sum(1 for h in holders if h.inactive)), "still holding privileged rights",
                  "bad" if any(h.inactive for h in holders) else "good")],
        tables=[table("privileged_access", "Privileged access holders",
                      [Column("User", width=28), Column("E-mail", width=30, in_pdf=False), Column("State", width=10),
                       Column("Admin groups", width=26), Column("Manages vaults (path)", width=70, max_chars=600)], rows)],
    )

