"""The weekly contractor access report: for everyone with an open end date and every guest,
what they used in the last seven days, what they can reach, when it ends, who sponsors them, and
what looks unusual — each anomaly said in words. One builder feeds the page and the weekly mail.

Anomalies, judged on the last REPORT_DAYS against the BASELINE_DAYS before them:
1. use after the end date (the person still had access and used it);
2. a new address or a new country (none of the baseline's; only when there is a baseline);
3. use of production vaults (classification production);
4. a volume spike: at least SPIKE_FACTOR times the baseline's weekly average and SPIKE_MIN_EVENTS
   uses;
5. what the compliance reports' detector finds in the week, over every vault the person used
   (compliance/reports/usage_anomalies.py, the one detector): off-hours use, several addresses
   within one hour, a burst of uses within one hour, one item used from several addresses at once.

Metadata only: titles, vault names, counts, addresses, dates. Never a value, notes or a fingerprint.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone

from compliance.reports.usage_anomalies import BURST_EVENTS, usage_anomalies
from openclaw_web.text import plural
from vaults.access_expiry.models import AccessEndDate
from vaults.access_expiry.scope import vaults_by_user
from vaults.models import Account, Item, ItemUsage, OpUser, Vault
from vaults.models.access import service_accounts

REPORT_DAYS = 7
# Four weeks before the report's week: long enough that a weekly rhythm is the baseline, short
# enough that a contractor who changed projects is judged on their current work.
BASELINE_DAYS = 28
SPIKE_FACTOR = 3
SPIKE_MIN_EVENTS = 10
ITEMS_SHOWN = 10
UTC = datetime.UTC
# One item-usage row as `.values()` reads it.
Event = Mapping[str, Any]


@dataclass(frozen=True)
class Anomaly:
    label: str
    explanation: str


@dataclass(frozen=True)
class ItemUse:
    title: str
    vault_name: str
    item_id: int | None
    uses: int
    actions: str


@dataclass
class ContractorRow:
    person: OpUser
    end_dates: list[AccessEndDate]
    sponsors: list[User]
    vaults: list[Vault]
    uses: int = 0
    actions: list[tuple[str, int]] = field(default_factory=list)
    items: list[ItemUse] = field(default_factory=list)
    item_count: int = 0
    anomalies: list[Anomaly] = field(default_factory=list)

    @property
    def next_end(self) -> AccessEndDate | None:
        return self.end_dates[0] if self.end_dates else None

    @property
    def production_vaults(self) -> int:
        return sum(1 for v in self.vaults if v.classification == Vault.Classification.PRODUCTION)


@dataclass
class ContractorReport:
    since: datetime.datetime
    until: datetime.datetime
    rows: list[ContractorRow]

    @property
    def with_anomalies(self) -> int:
        return sum(1 for r in self.rows if r.anomalies)


def contractors(account: Account | None = None) -> list[OpUser]:
    """People with an open end date, and guests; never service accounts or removed people."""
    open_end = Q(access_end_dates__status__in=AccessEndDate.OPEN)
    people = OpUser.objects.filter(open_end | Q(user_type__iexact="GUEST"), removed_at__isnull=True).exclude(
        service_accounts()
    )
    if account is not None:
        people = people.filter(account=account)
    return list(people.select_related("account").distinct().order_by("account__name", "name", "email", "pk"))


# The detector's row kinds -> the words of this report (one anomaly per kind and person: the
# first row, which the detector ranks largest first).
DETECTED = {
    "Unusual hours (22:00-06:00 UTC)": "Off-hours use",
    "Several IP addresses at once": "Several addresses at once",
    "Burst of access": "Burst of use",
    "One item from several addresses at once": "One item from several addresses",
}


def _detected(usage: Any) -> dict[str, list[Anomaly]]:
    """The detector's anomalies in `usage`, per person as it names them (email, else op id)."""
    found: dict[str, dict[str, Anomaly]] = defaultdict(dict)
    for kind, who, when, n, ips, detail in usage_anomalies(usage):
        label = DETECTED.get(str(kind))
        if label is None:
            continue
        if kind == "Unusual hours (22:00-06:00 UTC)":
            words = f"{plural(int(str(n)), 'use', 'uses')} between 22:00 and 06:00 UTC."
        elif kind == "Burst of access":
            words = f"{plural(int(str(n)), 'use', 'uses')} within one hour ({when:%Y-%m-%d %H}:00 UTC; threshold {BURST_EVENTS})."
        elif kind == "Several IP addresses at once":
            words = f"{ips} addresses within one hour ({when:%Y-%m-%d %H}:00 UTC)."
        else:
            words = f"{detail}."
        for person in str(who).split(", "):
            found[person.casefold()].setdefault(label, Anomaly(label, words))
    return {person: list(by_label.values()) for person, by_label in found.items()}


def _anomalies(
    *, week: list[Event], baseline: list[Event], end_dates: list[AccessEndDate], scoped: dict[int, set[str]],
    production: set[str], vault_names: dict[str, str],
) -> list[Anomaly]:  # fmt: skip
    found: list[Anomaly] = []
    for end in end_dates:
        # The end date is a day in TIME_ZONE (has_ended): an event's day is its local day too.
        after = [e for e in week if end.has_ended(timezone.localdate(e["timestamp"]))
                 and (end.covers_all or e["vault_op_id"] in scoped.get(end.pk, set()))]  # fmt: skip
        if after:
            found.append(Anomaly("Used after the end date", f"{plural(len(after), 'use', 'uses')} on or after "
                                 f"{end.ends_on.isoformat()}, the date this access ended."))  # fmt: skip
    if baseline:
        known_ips = {e["client_ip"] for e in baseline if e["client_ip"]}
        new_ips = sorted({e["client_ip"] for e in week if e["client_ip"] and e["client_ip"] not in known_ips})
        if new_ips:
            found.append(Anomaly("New address", f"used from {', '.join(new_ips[:5])}"
                                 f"{' and more' if len(new_ips) > 5 else ''}, not seen in the {BASELINE_DAYS} days before."))  # fmt: skip
        known = {e["country"].strip().upper() for e in baseline if e["country"].strip()}
        new = sorted({e["country"].strip() for e in week if e["country"].strip() and e["country"].strip().upper() not in known})
        if new:
            found.append(Anomaly("New country", f"used from {', '.join(new[:5])}, not seen in the {BASELINE_DAYS} days before."))
    prod = [e for e in week if e["vault_op_id"] in production]
    if prod:
        names = sorted({str(vault_names.get(e["vault_op_id"], e["vault_op_id"])) for e in prod}, key=str.casefold)
        found.append(Anomaly("Production use", f"{plural(len(prod), 'use', 'uses')} of items in production vaults "
                             f"({', '.join(names[:5])}{' and more' if len(names) > 5 else ''})."))  # fmt: skip
    weekly_average = len(baseline) * REPORT_DAYS / BASELINE_DAYS
    if len(week) >= SPIKE_MIN_EVENTS and len(week) >= SPIKE_FACTOR * weekly_average:
        found.append(Anomaly("Volume spike", f"{plural(len(week), 'use', 'uses')} this week against a weekly average of "
                             f"{weekly_average:.1f} over the {BASELINE_DAYS} days before."))  # fmt: skip
    return found


def build_report(*, account: Account | None = None, now: datetime.datetime | None = None) -> ContractorReport:
    """The report for the REPORT_DAYS before `now`: a handful of queries whatever the number of
    contractors (people, end dates, access per account, usage, items, vaults)."""
    now = now or timezone.now()
    since, baseline_since = now - datetime.timedelta(days=REPORT_DAYS), now - datetime.timedelta(days=REPORT_DAYS + BASELINE_DAYS)
    people = contractors(account)
    report = ContractorReport(since=since, until=now, rows=[])
    if not people:
        return report
    accounts = {p.account_id: p.account for p in people}
    end_dates: dict[int, list[AccessEndDate]] = defaultdict(list)
    ends = AccessEndDate.objects.filter(op_user__in=people, status__in=AccessEndDate.OPEN).select_related("sponsor")
    for end in ends.prefetch_related("vaults").order_by("ends_on", "pk"):
        end_dates[end.op_user_id].append(end)
    scoped = {e.pk: {v.op_id for v in e.vaults.all()} for ends_of in end_dates.values() for e in ends_of}
    reach: dict[int, set[int]] = {}
    for acc in accounts.values():
        reach.update(vaults_by_user(acc))
    vaults = {v.pk: v for v in Vault.objects.filter(account_id__in=list(accounts), removed_at__isnull=True)}
    vault_names = {v.op_id: v.name for v in vaults.values()}
    production = {v.op_id for v in vaults.values() if v.classification == Vault.Classification.PRODUCTION}
    events: dict[tuple[int, str], list[Event]] = defaultdict(list)
    usage = ItemUsage.objects.filter(account_id__in=list(accounts), user_op_id__in=[p.op_id for p in people],
                                     timestamp__gte=baseline_since, timestamp__lt=now)  # fmt: skip
    for event in usage.values("account_id", "user_op_id", "timestamp", "item_op_id", "vault_op_id", "action",
                              "client_ip", "country").order_by("timestamp"):  # fmt: skip
        events[(event["account_id"], event["user_op_id"])].append(event)
    used_ids = {e["item_op_id"] for evs in events.values() for e in evs if e["timestamp"] >= since}
    detected = _detected(usage.filter(timestamp__gte=since))
    items = {(i.vault.account_id, i.op_id): i for i in Item.objects.filter(
        vault__account_id__in=list(accounts), op_id__in=sorted(used_ids)).select_related("vault")}  # fmt: skip
    for person in people:
        mine = events.get((person.account_id, person.op_id), [])
        week = [e for e in mine if e["timestamp"] >= since]
        baseline = [e for e in mine if e["timestamp"] < since]
        row = ContractorRow(
            person=person, end_dates=end_dates.get(person.pk, []),
            sponsors=sorted({e.sponsor for e in end_dates.get(person.pk, []) if e.sponsor}, key=lambda u: u.username),
            vaults=sorted((vaults[v] for v in reach.get(person.pk, set()) if v in vaults), key=lambda v: v.name.casefold()),
            uses=len(week), actions=sorted(Counter(e["action"] or "use" for e in week).items(), key=lambda kv: (-kv[1], kv[0])),
        )  # fmt: skip
        per_item: dict[str, Counter[str]] = defaultdict(Counter)
        for e in week:
            per_item[e["item_op_id"]][e["action"] or "use"] += 1
        row.item_count = len(per_item)
        ranked = sorted(per_item.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))[:ITEMS_SHOWN]
        for op_id, counts in ranked:
            item = items.get((person.account_id, op_id))
            row.items.append(ItemUse(
                title=item.title if item else f"unknown item {op_id}", vault_name=item.vault.name if item else "",
                item_id=item.pk if item else None, uses=sum(counts.values()),
                actions=", ".join(f"{action} {n}" for action, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
            ))  # fmt: skip
        row.anomalies = _anomalies(week=week, baseline=baseline, end_dates=row.end_dates, scoped=scoped,
                                   production=production, vault_names=vault_names)  # fmt: skip
        names = dict.fromkeys(n.casefold() for n in (person.email, person.op_id) if n)
        seen = {a.label for a in row.anomalies}
        for anomaly in (a for name in names for a in detected.get(name, [])):
            if anomaly.label not in seen:
                row.anomalies.append(anomaly)
                seen.add(anomaly.label)
        report.rows.append(row)
    return report
