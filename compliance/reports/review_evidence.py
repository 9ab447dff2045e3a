"""One signed-off access review as its own evidence (PDF and Excel), and the sign-off block every
report that rests on access reviews prints on its cover.

1. `sign_offs` lists, per review, who decided its entries, who signed it off and when, and the
   second approval (SOC 2 / ISO covers and this export's cover).
2. `build` assembles a `ReportDocument` of the review: the review and its sign-off, every entry
   (person, vault, permissions in words, flags, decision, justification, reviewer, decision time)
   and the cleanup actions the sign-off created with their execution result. The existing
   renderers (pdf.py, xlsx.py) render it like any other report.
3. `export` renders one format into a temporary file and hashes it, for a download; the PDF embeds
   the workbook and a manifest (compliance/reports/bundle.py), as every report PDF does.
"""

from __future__ import annotations

import datetime
import hashlib
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.contrib.auth.models import User
from django.db.models import Count, Q, QuerySet

from compliance import audit
from compliance.reports.document import Cell, Column, Kpi, ReportDocument, Section, SignOff, Table, table
from compliance.reviews.models import AccessReview, AccessReviewEntry
from compliance.reviews.periods import Period
from openclaw_web.person_labels import name_with_role, person_name
from openclaw_web.text import plural
from vaults.cleanup.models import Approval, ProposedAction
from vaults.models.access import user_state_label
from vaults.permission_labels import permissions_text, readable_permission_names

KIND = "access_review"
# The PDF lists every entry up to this many rows per table (about 35 A4 pages, ~8 s of WeasyPrint
# at ~5 pages/s, rendered inside the download request); beyond it the first rows, and the
# workbook, streamed from the database, has every row.
PDF_ROWS = 1000
SYSTEM_REVIEWER = "OpenClaw (kept automatically: its own sync identity)"


# --- 1. sign-off blocks ------------------------------------------------------------------------


def _deciders(review_ids: Sequence[int]) -> dict[int, list[str]]:
    """review id -> the people who decided its entries, name and role, in name order (one query)."""
    pairs = (AccessReviewEntry.objects.filter(review_id__in=review_ids, decided_by__isnull=False)
             .values_list("review_id", "decided_by_id").distinct().order_by())
    by_review: dict[int, set[int]] = defaultdict(set)
    for review_id, user_id in pairs:
        by_review[review_id].add(user_id)
    users = {u.pk: u for u in User.objects.filter(pk__in={u for ids in by_review.values() for u in ids})}
    return {review_id: sorted(name_with_role(users[u]) for u in ids) for review_id, ids in by_review.items()}


def _second_approval(review: AccessReview) -> str:
    if review.second_approver is not None:
        return name_with_role(review.second_approver)
    return "required, not given yet" if review.require_second_approver else "not required"


def sign_offs(reviews: Iterable[AccessReview]) -> list[SignOff]:
    chosen = list(reviews)
    deciders = _deciders([r.pk for r in chosen])
    return [
        SignOff(review=r.title, status=r.get_status_display(), reviewers=deciders.get(r.pk, []),
                signed_off_by=name_with_role(r.signed_off_by) if r.signed_off_by else "not signed off",
                signed_off_at=r.signed_off_at, second_approver=_second_approval(r), second_approved_at=r.second_approved_at)
        for r in chosen
    ]


# --- 2. the review as a report -----------------------------------------------------------------


def _review_period(review: AccessReview) -> Period:
    return Period(start=review.period_start, end=review.period_end, label=review.period)


def _top_and_all(query: QuerySet[Any], convert: Any, *, total: int) -> tuple[list[tuple[Cell, ...]], Any]:
    top = [tuple(convert(row)) for row in query[:PDF_ROWS]]
    if total <= len(top):
        return top, None
    return top, lambda: (convert(row) for row in query.iterator(chunk_size=2000))


def _flags(entry: AccessReviewEntry) -> str:
    flags = []
    if entry.flag_unused:
        flags.append("Not used in the period")
    if entry.flag_over_permissioned:
        reasons = "; ".join(readable_permission_names(str(r)) for r in entry.flag_reasons or [])
        flags.append(f"Over-permissioned: {reasons}" if reasons else "Over-permissioned")
    return ". ".join(flags)


def _access_path(entry: AccessReviewEntry) -> str:
    paths = ["direct grant"] if entry.via_direct else []
    if entry.via_groups:
        paths.append("via " + ", ".join(entry.via_groups))
    return " and ".join(paths)


def _decision(entry: AccessReviewEntry) -> str:
    if entry.decision == AccessReviewEntry.Decision.CHANGE:
        return f"Change: remove {permissions_text(entry.revoked_permissions)}"
    return entry.get_decision_display()


def _reviewer(entry: AccessReviewEntry) -> str:
    if entry.decided_by is not None:
        return person_name(entry.decided_by)
    return SYSTEM_REVIEWER if entry.is_sync_identity and entry.decision else ""


def _outcome(entry: AccessReviewEntry) -> str:
    if entry.cleanup_action is not None:
        return f"Cleanup action #{entry.cleanup_action_id}: {entry.cleanup_action.get_status_display()}"
    return entry.remediation


ENTRY_COLUMNS = [
    Column("Person", width=24), Column("E-mail", width=30, in_pdf=False), Column("State", width=14, in_pdf=False),
    Column("Vault", width=24), Column("Classification", width=14, in_pdf=False), Column("Permissions", width=30),
    Column("Access through", width=24, in_pdf=False), Column("Flags", width=26), Column("Decision", width=20),
    Column("Permissions removed", width=28, in_pdf=False), Column("Justification", width=40, max_chars=400),
    Column("Reviewer", width=18), Column("Decided (UTC)", "datetime", 18), Column("Outcome", width=40, in_pdf=False),
    Column("Uses in period", "int", 10, in_pdf=False), Column("Last use (UTC)", "datetime", 18, in_pdf=False),
]


def _entry_row(entry: AccessReviewEntry) -> tuple[Cell, ...]:
    return (entry.user_label, entry.user_email, user_state_label(entry.user_state) if entry.user_state else "",
            entry.vault_name, entry.vault_classification, permissions_text(entry.permissions), _access_path(entry),
            _flags(entry), _decision(entry), permissions_text(entry.revoked_permissions), entry.justification,
            _reviewer(entry), entry.decided_at, _outcome(entry), entry.usage_count, entry.last_used_at)


ACTION_COLUMNS = [
    Column("Action", width=8), Column("Change", width=18), Column("Person", width=20), Column("Vault", width=22),
    Column("Permissions removed", width=26), Column("Status", width=20), Column("Approved by", width=20),
    Column("Finished (UTC)", "datetime", 18), Column("Result", width=34, max_chars=400),
]


def _approvers(action: ProposedAction) -> str:
    approvals = [a for a in action.approvals.all() if a.decision == Approval.Decision.APPROVE]
    return ", ".join(person_name(a.approver) for a in approvals)


def _result(action: ProposedAction) -> str:
    if action.error:
        return action.error
    if action.manual_done_by is not None:
        note = f": {action.verification_note}" if action.verification_note else ""
        return f"Done by hand by {person_name(action.manual_done_by)}{note}"
    if action.status == ProposedAction.Status.MANUAL:
        return action.identity_reason
    return action.verification_note


def _action_row(action: ProposedAction) -> tuple[Cell, ...]:
    person = str(action.op_user) if action.op_user is not None else ""
    return (f"#{action.pk}", action.get_kind_display(), person, action.vault_name,
            permissions_text(action.param("permissions", [])), action.get_status_display(), _approvers(action),
            action.finished_at or action.manual_done_at, _result(action))


def _facts(review: AccessReview, sign_off: SignOff) -> list[tuple[Cell, ...]]:
    def when(moment: datetime.datetime | None) -> str:
        return f"{moment.astimezone(datetime.UTC):%-d %b %Y %H:%M} UTC" if moment else "—"

    plan = review.cleanup_plan
    return [
        ("Review", review.title),
        ("Account", review.account.name),
        ("Scope", review.scope_label or "All vaults"),
        ("Opened", f"{when(review.opened_at)} by {name_with_role(review.opened_by)}"),
        ("Reviewers", ", ".join(sign_off.reviewers) or "—"),
        ("Signed off", f"{when(review.signed_off_at)} by {sign_off.signed_off_by}"),
        ("Sign-off note", review.sign_off_note or "—"),
        ("Second approval", f"{when(review.second_approved_at)} by {sign_off.second_approver}"
         if review.second_approver else sign_off.second_approver.capitalize()),
        ("Cleanup plan", f"#{plan.pk}: {plan.get_status_display()}" if plan else "None: no revocation was decided"),
    ]


def build(*, review: AccessReview, generator: str, now: datetime.datetime) -> ReportDocument:
    """Step 2 of the module docstring."""
    sign_off = sign_offs([review])[0]
    entries = (review.entries.select_related("decided_by", "cleanup_action").order_by("vault_name", "user_label", "pk"))
    counts = review.entries.aggregate(
        total=Count("pk"), keep=Count("pk", filter=Q(decision="keep")), revoke=Count("pk", filter=Q(decision="revoke")),
        change=Count("pk", filter=Q(decision="change")),
        flagged=Count("pk", filter=Q(flag_unused=True) | Q(flag_over_permissioned=True)))
    top, all_rows = _top_and_all(entries, _entry_row, total=counts["total"])
    actions = (ProposedAction.objects.filter(plan=review.cleanup_plan).select_related("vault", "op_user", "manual_done_by")
               .prefetch_related("approvals__approver").order_by("position", "pk")) if review.cleanup_plan else None
    action_rows = [_action_row(a) for a in actions] if actions is not None else []
    n = counts["total"]
    anchor = audit.chain_anchor()
    return ReportDocument(
        kind=KIND, title="Access review evidence", period=_review_period(review), generated_at=now, generator=generator,
        chain_seq=anchor.seq, chain_head=anchor.head, accounts=[review.account.name], sign_offs=[sign_off], pdf_rows=PDF_ROWS,
        figures={"entries": n, **{k: counts[k] for k in ("keep", "revoke", "change", "flagged")},
                 "actions": len(action_rows)},
        sections=[
            Section(
                key="review", title=review.title,
                intro=(f"Every user-vault access of {review.account.name} in scope, frozen when the review was opened, "
                       "with the reviewer's decision and justification, and the cleanup actions its sign-off created."),
                kpis=[Kpi("Accesses reviewed", str(n), plural(counts["flagged"], "flagged entry", "flagged entries")),
                      Kpi("Kept", str(counts["keep"])),
                      Kpi("Revoked", str(counts["revoke"]), "every permission removed"),
                      Kpi("Changed", str(counts["change"]), "some permissions removed")],
                tables=[table("review_facts", "Review and sign-off", [Column("Field", width=18), Column("Value", width=80)],
                              _facts(review, sign_off))],
            ),
            Section(
                key="entries", title="Decisions per access",
                intro="Permissions are those the person held on the vault when the review was opened, through every path.",
                tables=[Table(key="review_entries", title="Decisions per access", columns=ENTRY_COLUMNS, top=top,
                              total=n, all_rows=all_rows)],
            ),
            Section(
                key="actions", title="Resulting cleanup actions",
                intro=("Revocations the sign-off proposed behind the cleanup approval gate: an approver other than the "
                       "proposer approves, a worker runs them through op, and the result is recorded. Access that comes "
                       "only through a group has a remediation note in the workbook's Outcome column instead."),
                tables=[table("review_actions", "Resulting cleanup actions", ACTION_COLUMNS, action_rows)],
            ),
        ],
    )


# --- 3. export -----------------------------------------------------------------------------------


@dataclass
class Export:
    file: IO[bytes]  # positioned at the start
    filename: str
    content_type: str
    sha256: str
    size: int


CONTENT_TYPES = {"pdf": "application/pdf",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def export(*, review: AccessReview, fmt: str, generator: str, now: datetime.datetime) -> Export:
    """Render one format into a temporary file (a large workbook never sits in memory) and hash it.
    The PDF shows the first PDF_ROWS entries and carries the workbook (every entry) and a manifest
    with its SHA-256 as embedded files, like the report PDFs, so the one file is the whole evidence."""
    from compliance.reports.bundle import write_pdf
    from compliance.reports.xlsx import render_xlsx

    if fmt not in CONTENT_TYPES:
        raise ValueError(f"Unknown format {fmt!r}; choose pdf or xlsx.")
    document = build(review=review, generator=generator, now=now)
    basename = f"openclaw-access-review-{review.pk}-{review.period}"
    # Left open on purpose: the download response streams it and closes it.
    handle = tempfile.TemporaryFile()  # noqa: SIM115
    if fmt == "pdf":
        write_pdf(document, handle, parameters={"review": review.pk, "review_period": review.period}, basename=basename)
    else:
        render_xlsx(document, handle)
    size = handle.tell()
    handle.seek(0)
    digest = hashlib.sha256()
    for chunk in iter(lambda: handle.read(1 << 20), b""):
        digest.update(chunk)
    handle.seek(0)
    return Export(file=handle, filename=f"{basename}.{fmt}",
                  content_type=CONTENT_TYPES[fmt], sha256=digest.hexdigest(), size=size)
