"""The weekly contractor access mail: the report (report.py) as plain text, to each sponsor for
the people they sponsor and to every compliance officer for everyone. Sent once per ISO week and
recipient (notices.deliver): beat running twice in a week, or a retried task, sends nothing more.
"""

from __future__ import annotations

import datetime

from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from openclaw_web.site_url import absolute_url
from openclaw_web.text import one_line
from vaults.access_expiry import notices, wording
from vaults.access_expiry.report import REPORT_DAYS, ContractorReport, ContractorRow, build_report


def week_key(now: datetime.datetime) -> str:
    year, week, _ = timezone.localdate(now).isocalendar()
    return f"weekly:{year}-W{week:02d}"


def _row_text(row: ContractorRow) -> str:
    line = one_line
    person = row.person
    end = row.next_end
    ends = "no end date (guest default pending)" if end is None else (
        f"ends {end.ends_on.isoformat()}" + (" (guest default)" if end.is_default else "")
        + ("" if end.covers_all else " for some vaults"))  # fmt: skip
    sponsors = ", ".join(line(u.get_full_name() or u.get_username(), 60) for u in row.sponsors) or "none"
    used = wording.usage_summary(uses=row.uses, items=row.item_count, days=REPORT_DAYS)
    lines = [
        f"- {line(person.name or person.email or person.op_id, 80)} <{line(person.email, 80)}>: {ends}; sponsor {sponsors}; "
        f"{len(row.vaults)} vaults reachable ({row.production_vaults} production); {used}"
        + (" (" + ", ".join(f"{action} {n}" for action, n in row.actions) + ")" if row.actions else "")
    ]
    for use in row.items:
        lines.append(f"    {line(use.title, 80)} in {line(use.vault_name, 60)}: {use.actions}")
    for anomaly in row.anomalies:
        lines.append(f"    ! {anomaly.label}: {anomaly.explanation}")
    return "\n".join(lines)


def _body(report: ContractorReport, rows: list[ContractorRow]) -> str:
    head = (f"Contractor and guest access from {report.since:%Y-%m-%d %H:%M} to {report.until:%Y-%m-%d %H:%M} UTC: "
            f"{len(rows)} people, {sum(1 for r in rows if r.anomalies)} with something unusual.\n\n")  # fmt: skip
    return (head + "\n".join(_row_text(r) for r in rows)
            + f"\n\nThe report: {absolute_url(reverse('access_expiry:report'))}" + notices.FOOTER)  # fmt: skip


def send_weekly_report(*, now: datetime.datetime | None = None) -> int:
    """Build the report over every account and mail it; returns the number of mails sent."""
    now = now or timezone.now()
    report = build_report(now=now)
    if not report.rows:
        return 0
    key = week_key(now)
    subject = f"[OpenClaw] Weekly contractor access report ({key.split(':')[1]})"
    audience: dict[int, tuple[User, list[ContractorRow]]] = {}
    for officer in notices.compliance_officers():
        audience[officer.pk] = (officer, report.rows)
    for row in report.rows:
        for sponsor in row.sponsors:
            if sponsor.is_active and sponsor.pk not in audience:
                audience[sponsor.pk] = (sponsor, [])
            if sponsor.pk in audience and audience[sponsor.pk][1] is not report.rows:
                audience[sponsor.pk][1].append(row)
    sent = 0
    for person, rows in audience.values():
        sent += notices.deliver(key=key, event="weekly", recipients=[person], subject=subject, body=_body(report, rows))
    return sent
