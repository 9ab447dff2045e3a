"""The hygiene dashboard: organisation score and trend, findings per kind, worst vaults, syncs."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import OuterRef, Subquery
from django.http import HttpResponse
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from openclaw_web.fragment_cache import cached_fragment
from openclaw_web.http import HtmxHttpRequest, signed_in_user
from openclaw_web.roles import Capability, requires
from vaults import charts, inventory
from vaults.findings.models import Finding
from vaults.models import Account, SyncRun, Vault
from vaults.views.your_work import your_work

HOW_COMPUTED_TEMPLATE = "findings/_how_computed.html"
# Where the cached body takes the "Last sync" card, rendered per request: a running sync changes
# it by the second, and its "3 minutes ago" moves with the clock.
LAST_SYNC_MARK = "<!--openclaw:last-sync-->"
# viewBox width of charts in half-width cards: ~460 CSS px at 1400 px, so text renders near 1:1.
HALF_WIDTH = 480


def _how_computed_available() -> bool:
    try:
        get_template(HOW_COMPUTED_TEMPLATE)
    except TemplateDoesNotExist:
        return False
    return True


def _score_chart(health: inventory.AccountHealth) -> SafeString:
    points = [(s.taken_at, float(s.score)) for s in health.history]
    return charts.score_trend(points, title=f"Health score over time, account {health.account.name}")


def _kind_chart(accounts: list[Account]) -> SafeString:
    history = inventory.kind_history([a.pk for a in accounts])
    labels = dict(Finding.Kind.choices)
    series = [charts.Series(labels[k], points) for k, points in history.items() if any(v for _, v in points)]
    return charts.multi_line(series, title="Open findings per kind over time", width=HALF_WIDTH, height=300)


def _worst_chart(vaults: list[Vault]) -> SafeString:
    bars = [
        charts.Bar(v.name, v.score_value, href=reverse("vaults:detail", args=[v.pk]),  # type: ignore[attr-defined]  # annotated by the query
                   color=charts.BAND_STROKES[charts.band_of(v.score_value)])  # type: ignore[attr-defined]  # annotated by the query
        for v in vaults
    ]
    return charts.horizontal_bars(bars, title="Vaults with the lowest health score", max_value=100,
                                  width=HALF_WIDTH, label_chars=30)


def _body(request: HtmxHttpRequest) -> str:
    accounts = list(Account.objects.order_by("name"))
    health = inventory.account_health(accounts)
    worst = inventory.worst_vaults()
    context = {
        "health": [(h, _score_chart(h)) for h in health],
        "has_snapshots": any(h.snapshot for h in health),
        "kind_counts": inventory.counts_by_kind(),
        "kind_chart": _kind_chart(accounts),
        "worst": worst,
        "worst_chart": _worst_chart(worst),
        "quarter_start": inventory.quarter_start(timezone.now()),
        "how_computed": _how_computed_available(),
    }
    return render_to_string("vaults/_dashboard_body.html", context, request=request)


@dataclass(frozen=True)
class LastSync:
    account: Account
    last_run: SyncRun | None


def _last_syncs() -> list[LastSync]:
    """Each account with its newest sync run (2 queries)."""
    newest = SyncRun.objects.filter(account=OuterRef("pk")).order_by("-created_at", "-pk").values("pk")[:1]
    accounts = list(Account.objects.order_by("name").annotate(run_id=Subquery(newest)))
    runs = SyncRun.objects.in_bulk([a.run_id for a in accounts if a.run_id])
    return [LastSync(a, runs.get(a.run_id)) for a in accounts]


@requires(Capability.VIEW_INVENTORY)
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    body = cached_fragment(request, "dashboard", lambda: _body(request))
    last_syncs = _last_syncs()
    if LAST_SYNC_MARK in body:
        card = render_to_string("vaults/_dashboard_sync.html", {"last_syncs": last_syncs}, request=request)
        body = mark_safe(body.replace(LAST_SYNC_MARK, card))  # noqa: S308 — both our templates' escaped HTML
    # Per person: rendered outside the fragment, whose cache key holds roles, not the person.
    work = your_work(signed_in_user(request))
    context = {"nav": "dashboard", "body": body, "work": work, "accounts": len(last_syncs)}
    return render(request, "vaults/dashboard.html", context)
