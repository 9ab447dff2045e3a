"""The alert sources written here: health below a threshold, new high-severity findings, access
anomalies and overdue access reviews. Each returns `Condition`s for one account; which of them a
rule alerts on (its threshold, its vault, "new since the rule exists") is `matching.py`'s job, so
one source call serves every rule of its kind.

Conditions carry metadata only: names, titles, counts, dates. Never a finding's `details` (some
kinds hold fingerprints there), never a value.
"""

from __future__ import annotations

import datetime

from django.db.models import Max
from django.urls import reverse

from compliance.alerts.conditions import ANOMALY, HEALTH_BELOW, NEW_HIGH_FINDING, REVIEW_OVERDUE, Condition
from compliance.reports.evidence import Evidence
from compliance.reviews.models import AccessReview
from compliance.reviews.periods import Period
from vaults.findings import vault_scope
from vaults.findings.models import Finding, HealthSnapshot
from vaults.models import Account

# An access review is overdue once its period has been over this long without a final sign-off:
# a quarter's review is expected within the following month (SOC 2 CC6.2 / ISO A.5.18 evidence
# is read per quarter; auditors accept "completed within 30 days of quarter end").
REVIEW_DUE_DAYS = 30
# Usage read for anomalies: the last day. A beat pass every few minutes sees each anomaly many
# times; the alert state makes it one alert.
ANOMALY_WINDOW = datetime.timedelta(hours=24)
# Report row kinds (compliance/reports/evidence.py `Evidence.anomalies`) -> short keys.
ANOMALY_KEYS: dict[str, str] = {
    "Unusual hours (22:00-06:00 UTC)": "unusual_hours",
    "Several IP addresses at once": "several_addresses",
    "Burst of access": "burst",
    "One item from several addresses at once": "item_spread",
}


def health_conditions(account: Account, *, now: datetime.datetime, since: datetime.datetime | None = None) -> list[Condition]:
    """The latest score of the organisation and of each vault (one snapshot batch per findings
    run), whatever its value: each rule compares it with its own threshold."""
    latest = HealthSnapshot.objects.filter(account=account).aggregate(at=Max("taken_at"))["at"]
    if latest is None:
        return []
    snapshots = HealthSnapshot.objects.filter(account=account, taken_at=latest).select_related("vault")
    conditions = []
    for snap in snapshots:
        if snap.vault_id is None:
            scope, title, url = "organisation", f"{account.name}: organisation health score {snap.score}/100", reverse("dashboard")
        else:
            assert snap.vault is not None
            scope = "vault"
            title = f"{account.name}: vault “{snap.vault.name}” health score {snap.score}/100"
            url = reverse("vaults:detail", args=[snap.vault_id])
        conditions.append(Condition(
            kind=HEALTH_BELOW, key=f"health:{account.pk}:{snap.vault_id or 'org'}", account_id=account.pk,
            title=title, url=url, severity="high" if snap.score < 60 else "medium", vault_id=snap.vault_id,
            details={"score": snap.score, "scope": scope, "vault": snap.vault.name if snap.vault else None,
                     "items": snap.items, "taken_at": snap.taken_at.isoformat()},
        ))  # fmt: skip
    return conditions


def new_high_finding_conditions(
    account: Account, *, now: datetime.datetime, since: datetime.datetime | None = None
) -> list[Condition]:
    """Open high-severity findings first seen at or after `since` (the oldest rule of this kind):
    a rule created today does not alert on last year's backlog. Keyed by finding id."""
    findings = Finding.objects.filter(account=account, status=Finding.Status.OPEN, severity=Finding.Severity.HIGH)
    if since is not None:
        findings = findings.filter(first_seen__gte=since)
    rows = findings.order_by("pk").values_list("pk", "kind", "title", "vault_id", "vault__name", "first_seen")
    # A production secret also stored outside production has no vault of its own: a rule on
    # either vault alerts on it, as that vault's score counts it.
    spanning = dict(findings.filter(vault__isnull=True).values_list("pk", "details__vault_ids"))
    return [
        Condition(
            kind=NEW_HIGH_FINDING, key=f"finding:{pk}", account_id=account.pk,
            title=f"{account.name}: {Finding.Kind(kind).label} — {title}"[:500],
            url=reverse("findings:detail", args=[pk]), severity="high", vault_id=vault_id,
            spanned_vault_ids=tuple(vault_scope.listed_vault_ids(spanning.get(pk))),
            details={"finding_id": pk, "finding_kind": kind, "vault": vault_name, "first_seen": first_seen.isoformat()},
        )
        for pk, kind, title, vault_id, vault_name, first_seen in rows
    ]


def anomaly_conditions(account: Account, *, now: datetime.datetime, since: datetime.datetime | None = None) -> list[Condition]:
    """The access anomalies the compliance reports list (production vaults, Events API usage),
    over the last ANOMALY_WINDOW: the same detection, not a second one that could disagree."""
    period = Period(start=now - ANOMALY_WINDOW, end=now + datetime.timedelta(seconds=1), label="alerts")
    evidence = Evidence(period=period, accounts=[account], now=now + datetime.timedelta(seconds=2))
    conditions = []
    for row_kind, who, when, events, addresses, detail in evidence.anomalies:
        short = ANOMALY_KEYS.get(str(row_kind), "other")
        moment = when if isinstance(when, datetime.datetime) else now
        # Hour of the anomaly (the night row: its first use that day) makes it one condition.
        stamp = moment.strftime("%Y-%m-%d") if short == "unusual_hours" else moment.strftime("%Y-%m-%dT%H")
        conditions.append(Condition(
            kind=ANOMALY, key=f"anomaly:{account.pk}:{short}:{who}:{stamp}"[:200], account_id=account.pk,
            title=f"{account.name}: {row_kind} — {who}"[:500], url=reverse("usage"), severity="high",
            details={"anomaly": str(row_kind), "who": str(who), "at": moment.isoformat(), "events": events,
                     "addresses": addresses, "detail": str(detail)},
        ))  # fmt: skip
    return conditions


def review_overdue_conditions(
    account: Account, *, now: datetime.datetime, since: datetime.datetime | None = None
) -> list[Condition]:
    """Reviews without a final sign-off REVIEW_DUE_DAYS after their period ended."""
    due_before = now - datetime.timedelta(days=REVIEW_DUE_DAYS)
    reviews = AccessReview.objects.filter(account=account, period_end__lt=due_before).exclude(
        status=AccessReview.Status.SIGNED_OFF
    )
    conditions = []
    for review in reviews.order_by("pk"):
        due = review.period_end + datetime.timedelta(days=REVIEW_DUE_DAYS)
        conditions.append(Condition(
            kind=REVIEW_OVERDUE, key=f"review:{review.pk}", account_id=account.pk,
            title=f"{account.name}: access review “{review.title}” overdue since {due:%Y-%m-%d}"[:500],
            url=reverse("reviews:detail", args=[review.pk]), severity="high",
            details={"review_id": review.pk, "period": review.period, "status": review.status,
                     "due": due.date().isoformat(), "days_overdue": (now - due).days},
        ))  # fmt: skip
    return conditions
