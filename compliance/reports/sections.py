"""Sections shared by the SOC 2 and ISO 27001 reports, all fed by one `Evidence`."""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, TypedDict

from django.db.models import QuerySet

from compliance.models import AuditLogEntry
from compliance.reports.approval_gate import gate_labels
from compliance.reports.document import TOP_ROWS, Cell, Column, Kpi, Section, Table, fmt_percent, percent, table
from compliance.reports.evidence import Evidence
from compliance.reports.usage_anomalies import BURST_EVENTS, ITEM_SPREAD_ADDRESSES
from compliance.reviews.models import AccessReviewEntry
from openclaw_web.access_audit import ACTION_LABELS, ROLE_CHANGE_ACTIONS, change_summary
from openclaw_web.person_labels import person_name
from openclaw_web.text import plural
from vaults.access import AccessRow, user_is_inactive
from vaults.findings.models import Finding
from vaults.models import OpUser, Vault
from vaults.models.access import user_state_label
from vaults.permission_labels import permissions_text, readable_permission_names

KIND_LABELS = dict(Finding.Kind.choices)


def lazy_table(key: str, title: str, columns: list[Column], rows: Sequence[Any] | None = None, *,
               total: int, query: QuerySet[Any] | None = None, convert: Callable[[Any], Sequence[Cell]] | None = None,
               note: str = "") -> Table:
    """A detail table: the first TOP_ROWS rows now (a LIMIT query), every row streamed later
    (server-side cursor) only when the Excel renderer asks for them."""
    if query is not None and convert is not None:
        top = [tuple(convert(r)) for r in query[:TOP_ROWS]]
        return Table(key=key, title=title, columns=columns, top=top, total=total, note=note,
                     all_rows=lambda: (convert(r) for r in query.iterator(chunk_size=2000)))
    kept = list(rows or [])
    if convert is not None:  # rows already in memory: shape only the first ones now, the rest when streamed
        return Table(key=key, title=title, columns=columns, top=[tuple(convert(r)) for r in kept[:TOP_ROWS]], total=total,
                     all_rows=lambda: (convert(r) for r in kept), note=note)
    return Table(key=key, title=title, columns=columns, top=[tuple(r) for r in kept[:TOP_ROWS]], total=total,
                 all_rows=lambda: kept, note=note)


def _date(value: object) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _count_of(count: int | None, one: str, many: str) -> str:
    """'3 production vaults'; without data for the period just 'production vaults', never '0'."""
    return many if count is None else plural(count, one, many)


def _tone(pct: float | None, good: float = 95, warn: float = 80) -> str:
    if pct is None:
        return ""
    return "good" if pct >= good else "warn" if pct >= warn else "bad"


# Shown for a figure the period has no evidence for (before history began): never 0.
NO_DATA = "no data"


def known(value: int | None) -> Cell:
    return NO_DATA if value is None else value


def count_kpi(label: str, count: int | None, detail: str, tone: str, *, clean_tone: str = "good") -> Kpi:
    """A count of problems: `tone` when there are some, `clean_tone` at 0, none when unknown (no
    findings run by the period's end): an unknown count is never shown as a clean 0."""
    if count is None:
        return Kpi(label, "n/a", f"{detail}; no findings computed by the period's end", "")
    return Kpi(label, str(count), detail, tone if count else clean_tone)


class HeadlineFigures(TypedDict):
    """The key figures every builder computes once: the cover, tests and e-mails read them."""

    health_score: int | None
    active_items: int | None
    compliant_items: int | None
    compliance_pct: float | None
    rotation: dict[str, int | None]
    rotation_pct: float | None
    reviews: dict[str, int]
    reviews_pct: float | None
    violations_open: int | None  # None: no findings run by the period's end (not 0)
    open_by_kind: dict[str, int]
    open_findings: int | None
    usage: dict[str, int]
    access: dict[str, int | None]
    anomalies: dict[str, int]
    chain_ok: bool
    chain_entries: int


def headline_figures(ev: Evidence) -> HeadlineFigures:
    items, clean = ev.item_compliance
    rot = ev.rotation
    reviews = ev.review_figures
    return {
        "health_score": ev.health_score,
        "active_items": items,
        "compliant_items": clean,
        "compliance_pct": percent(clean, items),
        "rotation": rot,
        "rotation_pct": percent(rot["compliant"], rot["subject"]),
        "reviews": reviews,
        "reviews_pct": percent(reviews["decided"], reviews["total"]),
        "violations_open": ev.violations_open,
        "open_by_kind": dict(ev.open_by_kind),
        "open_findings": ev.open_total,
        "usage": ev.usage_figures,
        "access": ev.access_figures,
        "anomalies": dict(ev.anomaly_counts),
        "chain_ok": ev.audit_intact,
        "chain_entries": ev.audit_at_end[0],
    }


def summary_section(ev: Evidence, figures: HeadlineFigures) -> Section:
    rot = ev.rotation
    reviews = ev.review_figures
    as_of = "now" if ev.is_current else f"at the end of {ev.period.label}"
    health = figures["health_score"]
    kpis = [
        Kpi("Policy compliance", fmt_percent(figures["compliance_pct"]),
            f"{known(figures['compliant_items'])} of {known(figures['active_items'])} active items have no open finding",
            _tone(figures["compliance_pct"])),
        Kpi("Rotation compliance", fmt_percent(figures["rotation_pct"]),
            f"{known(rot['compliant'])} of {known(rot['subject'])} rotating credentials within policy", _tone(figures["rotation_pct"])),
        Kpi("Access reviews completed", fmt_percent(figures["reviews_pct"]),
            f"{reviews['decided']} of {reviews['total']} entries decided; {reviews['signed_off']} of "
            f"{plural(reviews['reviews'], 'review', 'reviews')} signed off", _tone(figures["reviews_pct"], 100, 90)),
        count_kpi("Policy violations", figures["violations_open"], "open: shared credentials, weak secrets, overdue rotation",
                   "bad"),
        Kpi("Health score", "n/a" if health is None else f"{health}/100", "latest snapshot, as on the dashboard",
            "" if health is None else _tone(float(health), 90, 60)),
    ]
    usage = ev.usage_figures
    access = ev.access_figures
    rows: list[tuple[Cell, ...]] = [
        ("Open findings (all kinds)", known(figures["open_findings"])),
        ("Policy violations open", known(figures["violations_open"])),
        ("Active items", known(figures["active_items"])),
        ("Items without open finding", known(figures["compliant_items"])),
        ("Credentials subject to rotation", known(rot["subject"])),
        ("Rotation overdue", known(rot["overdue"])),
        ("Rotation due within 30 days", known(rot["due_soon"])),
        ("Vaults", known(access["vaults"])),
        ("People with vault access", known(access["users_with_access"])),
        ("User x vault accesses", known(access["access_pairs"])),
        ("Item-usage events in period", usage["events"]),
        ("Access anomalies in period", len(ev.anomalies)),
        ("Access review entries", reviews["total"]),
        ("Access review entries decided", reviews["decided"]),
        ("Audit log entries by the period's end", ev.audit_at_end[0]),
    ]
    return Section(
        key="summary", title="Executive summary",
        intro=(f"State of the 1Password organisation for {ev.period.title}, measured {as_of}. Findings and the health "
               "score are the same stored results the OpenClaw dashboard shows."),
        kpis=kpis, tables=[table("key_figures", "Key figures", [Column("Metric", width=44), Column("Value", "int", 14)], rows)],
    )


def usage_coverage_section(ev: Evidence) -> Section:
    """Which part of the period item-usage figures (and "not used" claims) stand on."""
    rows: list[tuple[Cell, ...]] = [
        (account.name, coverage.feed if coverage.events_configured else "None configured",
         coverage.since, ev.usage_covered(coverage))
        for account, coverage in ev.usage_coverage
    ]
    return Section(
        key="usage_coverage", title="Usage data coverage",
        intro=("Item usage comes from the 1Password Events API. Usage counts, access anomalies and statements "
               "that an item was not used cover only the time it was measured; before that there is no evidence."),
        tables=[table("usage_coverage", "Usage data coverage",
                      [Column("Account", width=24), Column("Feed", width=40), Column("Measured since", "datetime", 20),
                       Column("This period", width=24)], rows)],
    )


ACCESS_COLUMNS = [Column("User", width=28), Column("E-mail", width=30, in_pdf=False), Column("State", width=10), Column("Vault", width=30),
                  Column("Permissions", width=40), Column("Direct", width=8), Column("Via groups", width=30)]


def access_section(ev: Evidence) -> Section:
    access = ev.access_figures
    usage = ev.usage_figures
    authorised = ev.production_access_rows()
    per_item = ev.accesses_per_user_item()
    per_item_total = per_item.count()
    anomalies = ev.anomalies
    counts = ev.anomaly_counts
    return Section(
        key="access", title="Production access audit",
        intro=(f"Who can reach the {_count_of(access['production_vaults'], 'production vault', 'production vaults')}, and how they used them in the "
               f"period. Anomalies: item use between 22:00 and 06:00 UTC, one person from several IP addresses within "
               f"one hour, bursts of {BURST_EVENTS}+ item uses within one hour, and one item used from "
               f"{ITEM_SPREAD_ADDRESSES}+ IP addresses within one minute, whoever used it."),
        kpis=[Kpi("Authorised users", str(known(access["production_users"])), f"{known(access['production_pairs'])} user-vault accesses"),
              Kpi("Item uses", str(usage["production_events"]), f"by {plural(usage['production_users'], 'person', 'people')} on "
                  f"{plural(usage['production_items'], 'item', 'items')}"),
              Kpi("Anomalies", str(len(anomalies)), ", ".join(f"{k.split(' (')[0].lower()}: {v}" for k, v in counts.items()) or "none",
                  "warn" if anomalies else "good")],
        tables=[
            lazy_table("authorised_users", "Authorised users of production vaults", ACCESS_COLUMNS, authorised,
                       total=len(authorised)),
            lazy_table("accesses", "Accesses per user and item (production)",
                       [Column("User", width=28), Column("E-mail", width=30, in_pdf=False), Column("Vault", width=30),
                        Column("Item", width=40), Column("Uses", "int", 8), Column("First use", "datetime", 18),
                        Column("Last use", "datetime", 18)],
                       total=per_item_total, query=per_item, convert=ev.accesses_row),
            lazy_table("anomalies", "Access anomalies", [Column("Anomaly", width=30), Column("User", width=30),
                       Column("When (UTC)", "datetime", 18), Column("Uses", "int", 8), Column("IPs", "int", 6),
                       Column("Detail", width=44)], anomalies, total=len(anomalies)),
        ],
    )


INVENTORY_COLUMNS = [Column("User", width=28), Column("E-mail", width=30, in_pdf=False), Column("State", width=14),
                     Column("Vault", width=30), Column("Classification", width=16), Column("Permissions", width=40),
                     Column("Direct", width=8), Column("Via groups", width=30)]
INACTIVE_ACCESS_COLUMNS = [Column("Person", width=28), Column("E-mail", width=30), Column("State", width=18),
                           Column("Vault", width=30), Column("Permissions", width=44), Column("Through", width=30)]
UNCLASSIFIED_COLUMNS = [Column("Vault", width=36), Column("Account", width=24), Column("People with access", "int", 12)]
OVER_PERMISSIONED_COLUMNS = [Column("Person", width=26), Column("E-mail", width=30, in_pdf=False),
                             Column("Severity", width=10), Column("Why flagged", width=70, max_chars=600),
                             Column("First seen", "datetime", 18), Column("Status now", width=12)]


def _person(user: OpUser) -> str:
    return user.name or user.email or user.op_id


def _path(row: AccessRow) -> str:
    return ", ".join((["direct"] if row.via_direct else []) + [f"group {g}" for g in row.via_groups])


def _inventory_row(row: AccessRow) -> tuple[Cell, ...]:
    return (_person(row.user), row.user.email, _state(row.user), row.vault.name, row.vault.get_classification_display(),
            permissions_text(row.permissions), "yes" if row.via_direct else "no", ", ".join(row.via_groups))


def _state(user: OpUser) -> str:
    return "Removed from the account" if user.removed_at else user_state_label(user.state)


def _inactive_row(row: AccessRow) -> tuple[Cell, ...]:
    return (_person(row.user), row.user.email, _state(row.user), row.vault.name, permissions_text(row.permissions),
            _path(row))


def _over_permissioned_row(f: Finding) -> tuple[Cell, ...]:
    person = _person(f.op_user) if f.op_user else f.title
    return (person, f.op_user.email if f.op_user else "", f.severity, readable_permission_names(f.explanation), f.first_seen,
            f.get_status_display())


def access_inventory_section(ev: Evidence) -> Section:
    """Every user-vault access at the period's end and the rows behind the access exceptions of
    SOC 2 CC6.1-CC6.3 and ISO A.5.15/A.5.16/A.5.18: unclassified vaults, suspended or deleted people
    still holding access, and open over-permissioned findings. The PDF shows the first rows of each
    table; the workbook and the CSVs have every row."""
    access = ev.access
    unclassified = [v for v in ev.vaults if v.classification == Vault.Classification.UNCLASSIFIED]
    holders = Counter((r.vault.account_id, r.vault.op_id) for r in access)
    names = {a.pk: a.name for a in ev.accounts}
    unclassified_rows: list[tuple[Cell, ...]] = [
        (v.name, names.get(v.account_id, ""), holders[(v.account_id, v.op_id)]) for v in unclassified]
    inactive = [r for r in access if user_is_inactive(r.user)]
    over = (ev.findings().filter(ev.open_filter(), kind=Finding.Kind.OVER_PERMISSIONED)
            .select_related("op_user").order_by("-severity_rank", "title", "pk"))
    over_total = over.count()
    people = len({r.user.pk for r in inactive})
    note = ("" if ev.has_access_history else
            " No access history covers this period's end: the access tables are empty for lack of data, not because "
            "nobody had access.")
    return Section(
        key="access_inventory", title="Access inventory",
        intro=("Every person's access to every vault at the end of the period, directly or through groups, as the "
               "history recorded by each sync shows it; then the vaults without a classification, the suspended or "
               "deleted people who still held access, and the over-permissioned findings open at the end of the "
               "period, each the rows behind a control's exceptions." + note),
        kpis=[Kpi("User-vault accesses", str(len(access))),
              Kpi("Unclassified vaults", str(len(unclassified)), f"of {len(ev.vaults):,} vaults",
                  "bad" if unclassified else "good"),
              Kpi("Inactive people with access", str(people), plural(len(inactive), "vault access", "vault accesses"),
                  "bad" if people else "good"),
              Kpi("Over-permissioned", str(over_total), "open findings", "bad" if over_total else "good")],
        tables=[
            lazy_table("access_inventory", "Every user-vault access", INVENTORY_COLUMNS, access, total=len(access),
                       convert=_inventory_row),
            table("unclassified_vaults", "Vaults without a classification", UNCLASSIFIED_COLUMNS, unclassified_rows),
            lazy_table("inactive_user_access", "Suspended or deleted people still holding vault access",
                       INACTIVE_ACCESS_COLUMNS, inactive, total=len(inactive), convert=_inactive_row),
            lazy_table("over_permissioned", "Open over-permissioned findings", OVER_PERMISSIONED_COLUMNS,
                       total=over_total, query=over, convert=_over_permissioned_row),
        ],
    )


ACCESS_CHANGE_KINDS = {"granted": "Granted", "modified": "Permissions changed", "removed": "Removed"}
VAULT_ACCESS_CHANGE_COLUMNS = [
    Column("When (UTC)", "datetime", 18), Column("Change", width=18), Column("User", width=26),
    Column("E-mail", width=30, in_pdf=False), Column("Vault", width=28), Column("Before", width=36),
    Column("After", width=36), Column("Path", width=24), Column("Through OpenClaw", width=34)]
HISTORY_NOTE = ("Access history is recorded by every successful sync from the first sync after OpenClaw began "
                "recording it; nothing earlier is reconstructed.")


def access_changes_section(ev: Evidence) -> Section:
    """Vault access granted, modified or removed in 1Password during the period (SOC 2 CC6.2/CC6.3,
    ISO A.5.18), from the history every sync records (vaults/history.py)."""
    changes = ev.access_changes()
    counts = ev.access_change_counts
    if changes is None or counts is None:
        return Section(key="access_changes", title="Vault access changes",
                       intro=f"No access history for this period: it ended before history began. {HISTORY_NOTE}",
                       kpis=[Kpi("Granted", NO_DATA), Kpi("Permissions changed", NO_DATA), Kpi("Removed", NO_DATA)])
    covered = ev.history_covered()
    gates = gate_labels(changes, ev.accounts, ev.period.start, ev.period.end)
    rows: list[tuple[Cell, ...]] = [
        (c.at, ACCESS_CHANGE_KINDS[c.change], c.user.name or c.user.email or c.user.op_id, c.user.email, c.vault.name,
         permissions_text(c.before), permissions_text(c.after), c.path, gate)
        for c, gate in zip(changes, gates, strict=True)
    ]
    coverage = "" if covered == "Whole period" else f" History covers this period {covered[0].lower()}{covered[1:]}."
    return Section(
        key="access_changes", title="Vault access changes",
        intro=("Who was given access to a vault, whose permissions changed and whose access ended during the period, "
               "directly or through a group, as each sync recorded it (a change undone between two syncs is not seen)."
               f"{coverage} {HISTORY_NOTE} Through OpenClaw: for a removal or reduction, the revocation cleanup action "
               "approved by a second person that made it, or “not through OpenClaw”; OpenClaw never grants access, so "
               "a grant's authorisation is not recorded here."),
        kpis=[Kpi("Granted", str(counts["granted"]), "user-vault accesses"),
              Kpi("Permissions changed", str(counts["modified"]), "user-vault accesses"),
              Kpi("Removed", str(counts["removed"]), "user-vault accesses")],
        tables=[lazy_table("vault_access_changes", "Vault access granted, changed and removed",
                           VAULT_ACCESS_CHANGE_COLUMNS, rows, total=len(rows))],
    )


def rotation_section(ev: Evidence) -> Section:
    rot = ev.rotation
    rows = ev.rotation_rows()
    total = rows.count()

    def convert(f: Finding) -> tuple[Cell, ...]:
        then: Any = f  # annotated by Evidence.as_of_end: status and severity at the period's end
        d = then.details_then or {}
        return (KIND_LABELS.get(f.kind, f.kind), then.severity_then, f.item.title if f.item else f.title,
                f.vault.name if f.vault else "", _date(d.get("changed_at")), ev.rotation_age(d), d.get("period_days"),
                Finding.Status(then.status_then).label)

    return Section(
        key="rotation", title="Credential rotation compliance",
        intro=("Non-human secrets (API credentials, databases, servers, SSH keys and logins tagged service-account) "
               "must be rotated within the vault's policy period; people's own logins are not forced to rotate."),
        kpis=[Kpi("Compliant", str(known(rot["compliant"])), f"of {known(rot['subject'])} rotating credentials",
                  "" if rot["compliant"] is None else "good"),
              count_kpi("Overdue", rot["overdue"], "past the policy period", "bad"),
              count_kpi("Due in 30 days", rot["due_soon"], "plan the rotation", "warn", clean_tone="")],
        tables=[lazy_table("rotation", "Overdue and soon-due credentials",
                           [Column("Status", width=20), Column("Severity", width=12), Column("Item", width=40),
                            Column("Vault", width=30), Column("Last changed", "date", 14), Column("Age (days)", "int", 10),
                            Column("Period (days)", "int", 12), Column("Finding", width=14)],
                           total=total, query=rows, convert=convert)],
    )


def violations_section(ev: Evidence) -> Section:
    status = ev.kind_status
    columns = ("open", "accepted", "new", "resolved")
    summary_rows: list[tuple[Cell, ...]] = [
        (KIND_LABELS[k], *(known(status[k][c]) for c in columns))
        for k in (Finding.Kind.DUPLICATE, Finding.Kind.WEAK, Finding.Kind.OVERDUE_ROTATION)
    ]
    detail = ev.violation_rows()
    total = detail.count()

    def convert(f: Finding) -> tuple[Cell, ...]:
        then: Any = f  # annotated by Evidence.as_of_end: status and severity at the period's end
        return (KIND_LABELS.get(f.kind, f.kind), then.severity_then, f.title, f.vault.name if f.vault else "(several vaults)",
                f.first_seen, Finding.Status(then.status_then).label, then.resolved_then)

    return Section(
        key="violations", title="Policy violations",
        intro=("Shared credential use (the same secret in several items, found by keyed fingerprints), weak passwords "
               "and overdue rotation, with their resolution status. Accepted risks carry a reason and an expiry date."),
        tables=[
            table("violations_by_kind", "Violations by kind",
                  [Column("Kind", width=28), Column("Open", "int", 8), Column("Accepted risk", "int", 14),
                   Column("New in period", "int", 14), Column("Resolved in period", "int", 18)], summary_rows),
            lazy_table("violations", "Violations open during the period",
                       [Column("Kind", width=22), Column("Severity", width=12), Column("Finding", width=60),
                        Column("Vault", width=30), Column("First seen", "datetime", 18), Column("Status", width=14),
                        Column("Resolved", "datetime", 18)], total=total, query=detail, convert=convert),
        ],
    )


def reviews_section(ev: Evidence) -> Section:
    figures = ev.review_figures
    review_rows: list[tuple[Cell, ...]] = []
    for r in ev.reviews():
        entries = r.entries.all()
        n = entries.count()
        decided = entries.exclude(decision="").count()
        review_rows.append((r.title, r.period, r.scope_label, person_name(r.opened_by), r.opened_at,
                            person_name(r.signed_off_by) if r.signed_off_by else "",
                            person_name(r.second_approver) if r.second_approver else ("required" if r.require_second_approver else "not required"),
                            n, decided, r.get_status_display()))
    changes = ev.review_changes()
    total = changes.count()

    def convert(e: AccessReviewEntry) -> tuple[Cell, ...]:
        approver = person_name(e.review.signed_off_by) if e.review.signed_off_by else ""
        if e.review.second_approver:
            approver += f" + {person_name(e.review.second_approver)}"
        outcome = (f"cleanup action #{e.cleanup_action_id}: {e.cleanup_action.get_status_display()}"
                   if e.cleanup_action else (e.remediation or "pending sign-off"))
        return (e.user_label, e.vault_name, e.get_decision_display(), permissions_text(e.revoked_permissions), e.justification,
                person_name(e.decided_by) if e.decided_by else "", e.decided_at, approver, outcome)

    return Section(
        key="reviews", title="Access review documentation",
        intro=("Reviews whose period overlaps this report's period: who reviewed, who approved, and every change "
               "decided. Revocations run as cleanup actions only after an approver other than the proposer approves."),
        kpis=[Kpi("Reviews", str(figures["reviews"]), f"{figures['signed_off']} signed off"),
              Kpi("Entries decided", fmt_percent(percent(figures["decided"], figures["total"])),
                  f"{figures['decided']} of {figures['total']}"),
              Kpi("Changes", str(figures["revoke"] + figures["change"]),
                  f"{figures['revoke']} revoke, {figures['change']} change; {plural(figures['actions'], 'cleanup action', 'cleanup actions')}")],
        tables=[
            table("reviews", "Reviews", [Column("Review", width=36), Column("Period", width=9), Column("Scope", width=24),
                  Column("Opened by", width=16), Column("Opened", "datetime", 18), Column("Signed off by", width=16),
                  Column("Second approver", width=16), Column("Entries", "int", 9), Column("Decided", "int", 9),
                  Column("Status", width=20)], review_rows),
            lazy_table("review_changes", "Changes decided", [Column("User", width=26), Column("Vault", width=28),
                       Column("Decision", width=16), Column("Permissions removed", width=30), Column("Justification", width=44),
                       Column("Reviewer", width=16), Column("Decided", "datetime", 18), Column("Approved by", width=22),
                       Column("Outcome", width=40)], total=total, query=changes, convert=convert),
        ],
    )


ACCESS_CHANGE_COLUMNS = [Column("When (UTC)", "datetime", 18), Column("Who", width=24), Column("What", width=26),
                         Column("Person", width=24), Column("Detail", width=50), Column("Audit entry", "int", 11)]


def own_access_changes_section(ev: Evidence) -> Section:
    """OpenClaw's own access changes in the period (SOC 2 CC6.2/CC6.3): people created,
    (de)activated, roles added or removed, passwords, two-factor devices and API tokens, from the
    audit log."""
    counts = ev.own_access_change_counts
    total = sum(counts.values())
    roles = sum(counts.get(a, 0) for a in ROLE_CHANGE_ACTIONS)
    people = sum(counts.get(a, 0) for a in ("people.user_created", "people.user_deactivated", "people.user_activated",
                                             "people.user_deleted"))
    changes = ev.own_access_changes()

    def convert(e: AuditLogEntry) -> tuple[Cell, ...]:
        # tokens.py's own entries target the token and name its owner as the actor.
        person = e.details.get("user") or (e.actor_label if e.target_type == "openclaw_web.apitoken" else e.target_label)
        return (e.created_at, e.actor_label, ACTION_LABELS.get(e.action, e.action), person,
                change_summary(e.action, e.details), e.seq)

    by_kind: list[tuple[Cell, ...]] = [(ACTION_LABELS.get(action, action), n) for action, n in sorted(counts.items())]
    return Section(
        key="own_access", title="OpenClaw's own access changes",
        intro=("Changes to who can use OpenClaw itself during the period: people created, deactivated or reactivated, "
               "roles added or removed, passwords, two-factor devices and API tokens, from any path (the people page, "
               "the Django admin, the command line), as recorded in the hash-chained audit log. "
               + ("" if total else "There were no such changes in this period.")),
        kpis=[Kpi("Access changes", str(total), "in the period"),
              Kpi("Role changes", str(roles), "roles added or removed"),
              Kpi("People", str(people), "created, deactivated, reactivated or deleted")],
        tables=[
            table("own_access_by_kind", "Access changes by kind", [Column("Change", width=34), Column("Count", "int", 10)],
                  by_kind),
            lazy_table("own_access_changes", "Access changes", ACCESS_CHANGE_COLUMNS, total=total, query=changes,
                       convert=convert),
        ],
    )


def quarter_section(ev: Evidence) -> Section:
    metrics = ev.quarter_metrics()
    rows: list[tuple[Cell, ...]] = [
        (m["period"], m["health"], known(m["present"]), known(m["violations"]), known(m["new"]), known(m["resolved"]),
         fmt_percent(m["review_pct"]) if m["review_pct"] is not None else "no review")
        for m in metrics if not m["future"]
    ]
    return Section(
        key="quarters", title="Quarter-over-quarter metrics",
        intro=("Health score at each quarter's end (latest snapshot), findings present at the end (first seen before "
               "it, not yet resolved), findings new and resolved during the quarter, and review completion."),
        tables=[table("quarters", "Quarter over quarter", [Column("Quarter", width=10), Column("Health", "int", 8),
                      Column("Findings at end", "int", 16), Column("Violations at end", "int", 18),
                      Column("New", "int", 8), Column("Resolved", "int", 10), Column("Review decided", width=16)], rows)],
    )


def recommendations(ev: Evidence, figures: HeadlineFigures) -> list[str]:
    rot = ev.rotation
    reviews = ev.review_figures
    access = ev.access_figures
    kinds = ev.open_by_kind
    out = []
    if rot["overdue"]:
        out.append(f"Rotate the {plural(rot['overdue'], 'overdue credential', 'overdue credentials')}, production vaults first.")
    if kinds.get(Finding.Kind.WEAK):
        out.append(f"Replace the {plural(kinds[Finding.Kind.WEAK], 'weak secret', 'weak secrets')} with generated ones.")
    if kinds.get(Finding.Kind.DUPLICATE):
        out.append(f"Consolidate the {plural(kinds[Finding.Kind.DUPLICATE], 'group', 'groups')} of copied credentials: one secret, one item.")
    if kinds.get(Finding.Kind.REUSED_SECRET):
        out.append(f"Give each service its own secret where {plural(kinds[Finding.Kind.REUSED_SECRET], 'secret is', 'secrets are')} reused "
                   "across services: rotate at the source, never archive.")
    if access["inactive_with_access"]:
        out.append(f"Remove vault access of the {plural(access['inactive_with_access'], 'suspended or deleted user', 'suspended or deleted users')}.")
    if kinds.get(Finding.Kind.OVER_PERMISSIONED):
        out.append(f"Right-size the access of {plural(kinds[Finding.Kind.OVER_PERMISSIONED], 'over-permissioned user', 'over-permissioned users')}.")
    if not reviews["reviews"]:
        out.append(f"Open and complete the access review for {ev.period.label}.")
    elif reviews["decided"] < reviews["total"] or reviews["signed_off"] < reviews["reviews"]:
        out.append("Finish the open access reviews and sign them off." if reviews["reviews"] - reviews["signed_off"] > 1
                   else "Finish the open access review and sign it off.")
    if ev.anomalies:
        out.append(f"Investigate the {len(ev.anomalies)} access anomalies and link each to a legitimate reason.")
    if access["unclassified_vaults"]:
        out.append(f"Classify the {plural(access['unclassified_vaults'], 'unclassified vault', 'unclassified vaults')} so the right policy applies.")
    if rot["due_soon"]:
        out.append(f"Schedule the {plural(rot['due_soon'], 'rotation', 'rotations')} due within 30 days.")
    out.extend(_evidence_recommendations(ev))
    return out or ["No action needed: every measured control is within policy for this period."]


def _evidence_recommendations(ev: Evidence) -> list[str]:
    """Sign-in and privileged-access actions, and the data a control needs before it can be judged
    (a control without data reads "No evidence", so "no action needed" must not follow from it)."""
    out = []
    single = ev.signin_methods["credentials_only"] if ev.signins_cover_period else 0
    if single:
        out.append(f"Require two-factor authentication or SSO: {plural(single, 'sign-in', 'sign-ins')} used the password "
                   "and Secret Key only.")
    inactive_admins = sum(1 for h in ev.privileged_access if h.inactive)
    if inactive_admins:
        out.append(f"Remove the privileged rights of the {plural(inactive_admins, 'suspended or deleted person', 'suspended or deleted people')}.")
    missing = [what for what, ok in (("item usage over the whole period (configure the Events API)", ev.usage_covers_period),
                                     ("sign-in attempts over the whole period (Events API)", ev.signins_cover_period),
                                     ("findings computed by the period's end", ev.findings_computed),
                                     ("access history at the period's end (it starts at the first sync)", ev.has_access_history))
               if not ok]
    if missing:
        out.append("Controls marked No evidence lack data for this period: " + "; ".join(missing) + ".")
    return out


def recommendations_section(ev: Evidence, figures: HeadlineFigures) -> Section:
    bullets = recommendations(ev, figures)
    return Section(key="recommendations", title="Recommendations", intro="In order of risk.", bullets=bullets,
                   tables=[table("recommendations", "Recommendations", [Column("#", "int", 4), Column("Recommendation", width=100)],
                                 [(n, text) for n, text in enumerate(bullets, start=1)])])

