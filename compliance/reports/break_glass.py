"""The reports' "Emergency access" section: each break-glass event of the period with its reason
and follow-up (vaults/breakglass/), as of the period's end.

Point-in-time (DESIGN invariant 9): an event is in the period by its first use; its reason and
rotation count only if they were recorded by the period's end (`Evidence.as_of`), so a closed
period reads the same when regenerated after a late reason. With no event the section says so,
and lists the vaults classified emergency during the period — or says that none was, which is no
evidence that break-glass access is controlled; and "No evidence" when item usage (the Events API)
was not imported over the whole period, since no use could have been seen.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Q

from compliance.reports.document import Column, Kpi, Section
from compliance.reports.evidence import Evidence
from compliance.reports.sections import lazy_table
from openclaw_web.text import plural
from vaults.breakglass.models import EmergencyUse
from vaults.breakglass.record import reason_state, rotation_state
from vaults.models import Vault, VaultSpan

KEY = "break_glass"
EMERGENCY = Vault.Classification.EMERGENCY
# The report cell for a reason: enough for an auditor to match it to an incident record.
REASON_CHARS = 500
BY: dict[str, str] = {EmergencyUse.ReasonBy.USER: "the user", EmergencyUse.ReasonBy.LEAD: "the vault owner"}


def events(ev: Evidence) -> list[EmergencyUse]:
    p = ev.period
    return list(EmergencyUse.objects.filter(account__in=ev.accounts, first_used_at__gte=p.start,
                                            first_used_at__lt=p.end).order_by("first_used_at", "pk"))


def emergency_vault_names(ev: Evidence) -> list[str]:
    """Vaults classified emergency at any time in the period (history), else today's class."""
    with_history = [a for a in ev.accounts if ev.history_covers(a)]
    without = [a for a in ev.accounts if a not in with_history]
    spans = VaultSpan.objects.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=ev.period.start),
                                     account__in=with_history, classification=EMERGENCY, valid_from__lt=ev.period.end)
    today = Vault.objects.filter(account__in=without, classification=EMERGENCY, removed_at__isnull=True)
    return sorted(set(spans.values_list("name", flat=True)) | set(today.values_list("name", flat=True)))


def _usage_gaps(ev: Evidence) -> str:
    """The accounts whose item usage (Events API) does not cover the whole period, in words; ""
    when all do. Without usage nothing here could have seen a use, so silence is no evidence."""
    gaps = []
    for account, coverage in ev.usage_coverage:
        words = ev.usage_covered(coverage)
        if words != "Whole period":
            gaps.append(f"{account.name}: {words[0].lower()}{words[1:]}")
    return "; ".join(gaps)


def _follow_up(event: EmergencyUse, as_of: datetime.datetime) -> tuple[str, str, str]:
    """(reason text, reason status, rotation status) as known at `as_of`."""
    reason = reason_state(event, as_of)
    if reason == "given":
        by = BY.get(event.reason_by) or event.reason_by_label or "a person"
        text, status = event.reason[:REASON_CHARS], f"given {event.reason_at:%Y-%m-%d %H:%M} by {by}"
    else:
        text, status = "", "missing" if reason == "missing" else "requested, not yet due"
    rotation = rotation_state(event, as_of)
    rotated = {"done": f"done {event.rotated_at:%Y-%m-%d %H:%M}" if event.rotated_at else "",
               "done-late": f"late: done {event.rotated_at:%Y-%m-%d %H:%M}" if event.rotated_at else "",
               "late": "late: not rotated", "due": "due, not yet late"}[rotation]
    return text, status, rotated


@dataclass(frozen=True)
class Breaches:
    """The period's events past a deadline as known at `as_of`; `events` counts each event once
    even when it missed both (the verdict's exception count)."""

    missing_reason: int
    rotated_late: int
    events: int


def breaches(found: list[EmergencyUse], as_of: datetime.datetime) -> Breaches:
    missing = {e.pk for e in found if reason_state(e, as_of) == "missing"}
    late = {e.pk for e in found if rotation_state(e, as_of) in ("late", "done-late")}
    return Breaches(len(missing), len(late), len(missing | late))


def evidence_line_parts(ev: Evidence) -> tuple[bool, str, int]:
    """(has data, sentence, exceptions) for the controls' `break_glass` evidence line. No data when
    item usage does not cover the period. An organisation that classified no vault emergency has
    no break-glass use to follow up: the line says so in words (never "0 events") and leaves the
    control's verdict to its other lines, rather than calling usage monitoring unevidenced."""
    if not ev.usage_covers_period:
        return False, "No evidence for break-glass use: item usage was not measured over the whole period.", 0
    vaults = emergency_vault_names(ev)
    if not vaults:
        return True, ("No vault was classified emergency / break-glass in the period, so there was no break-glass "
                      "use to follow up; classify the vault that holds emergency credentials to track its use."), 0
    found = events(ev)
    b = breaches(found, ev.as_of)
    return True, (f"{plural(len(found), 'break-glass event', 'break-glass events')} in "
                  f"{plural(len(vaults), 'vault classified emergency', 'vaults classified emergency')}: "
                  f"{b.missing_reason:,} without a reason past its deadline, {b.rotated_late:,} rotated late or not "
                  "at all."), b.events


def section(ev: Evidence) -> Section:
    found = events(ev)
    as_of = ev.as_of
    rows = []
    for e in found:
        text, reason_status, rotated = _follow_up(e, as_of)
        told = e.contacts_notified_at
        notified = f"{told:%Y-%m-%d %H:%M}" if told and told <= as_of else "no"
        rows.append((e.first_used_at, e.who, e.user_email, e.item_title or e.item_op_id, e.vault_name or e.vault_op_id,
                     e.use_count, text, reason_status, notified, e.rotation_due_at, rotated))
    counted = breaches(found, as_of)
    missing, late = counted.missing_reason, counted.rotated_late
    vaults = emergency_vault_names(ev)
    if found:
        bullets = []
    elif gaps := _usage_gaps(ev):
        listed = f" Vaults classified emergency: {', '.join(vaults)}." if vaults else ""
        bullets = [f"No evidence: item usage (Events API) does not cover the whole period ({gaps}), so a break-glass "
                   f"use could have gone unseen.{listed}"]
    elif vaults:
        bullets = [f"No break-glass use in the period. Vaults classified emergency: {', '.join(vaults)}."]
    else:
        bullets = ["No break-glass use in the period — and no vault is classified emergency, so no use could have "
                   "been tracked: this is not evidence that emergency access is controlled."]
    return Section(
        key=KEY, title="Emergency access",
        intro=(f"Every use of an item in a vault classified emergency / break-glass, grouped per person and item "
               f"(uses less than an hour apart are one event). Each needs a reason and a rotation of the secret by "
               f"its due time; reasons, notifications and rotations are shown as recorded by "
               f"{as_of:%Y-%m-%d %H:%M} UTC."),
        kpis=[Kpi("Break-glass events", str(len(found)), "in the period", "warn" if found else ""),
              Kpi("Without a reason", str(missing), "past the reason deadline", "bad" if missing else "good" if found else ""),
              Kpi("Rotated late or not", str(late), "past the rotation deadline", "bad" if late else "good" if found else "")],
        bullets=bullets,
        tables=[lazy_table(KEY, "Break-glass events",
                           [Column("First use (UTC)", "datetime", 18), Column("User", width=24),
                            Column("E-mail", width=28, in_pdf=False), Column("Item", width=30), Column("Vault", width=24),
                            Column("Uses", "int", 7, in_pdf=False), Column("Reason", width=40), Column("Reason status", width=24),
                            Column("Notified (UTC)", width=18), Column("Rotation due", "datetime", 18, in_pdf=False),
                            Column("Rotation", width=22)],
                           rows, total=len(rows),
                           note=plural(len(vaults), "vault classified emergency", "vaults classified emergency")
                           + (f": {', '.join(vaults)}" if vaults else ""))],
    )
