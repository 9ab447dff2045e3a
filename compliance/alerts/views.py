"""Alerts: rules, channels, recent alerts and the delivery log; forms for rules and channels;
"Send a test" per channel. Managers (admin, compliance officer) change them; auditors read."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from compliance import audit
from compliance.alerts import deliver
from compliance.alerts.forms import ChannelForm, RuleForm
from compliance.alerts.models import AlertChannel, AlertDelivery, AlertRule, AlertState
from compliance.audit_changes import address_label, changed_fields
from openclaw_web.http import HtmxHttpRequest, signed_in_user
from openclaw_web.keyset import CursorForm, keyset_page, page_links
from openclaw_web.roles import Capability, requires

RECENT_ALERTS = 25


def _channel_details(channel: AlertChannel) -> dict[str, Any]:
    # The target label, never a URL's path or query (it may carry a token).
    return {"name": channel.name, "kind": channel.kind, "target": channel.target_label, "url_env": channel.url_env,
            "secret_env": channel.secret_env, "enabled": channel.enabled}  # fmt: skip


def _channel_fields(channel: AlertChannel) -> dict[str, Any]:
    """What an edit may change, raw: `changed_fields` shows the URL as scheme and host only."""
    return {"name": channel.name, "kind": channel.kind, "url": channel.url, "url_env": channel.url_env,
            "secret_env": channel.secret_env, "recipients": list(channel.recipients), "enabled": channel.enabled}  # fmt: skip


def _rule_details(rule: AlertRule) -> dict[str, Any]:
    return {"name": rule.name, "kind": rule.kind, "threshold": rule.threshold, "account": rule.account_id,
            "vault": rule.vault_id, "channels": sorted(rule.channels.values_list("pk", flat=True)),
            "enabled": rule.enabled}  # fmt: skip


@requires(Capability.VIEW_AUDIT_LOG)
def index(request: HtmxHttpRequest) -> HttpResponse:
    cursor = CursorForm(request.GET)
    if not cursor.is_valid():
        return HttpResponseBadRequest("Invalid page.")
    # Every alert sent adds a delivery, for good: keyset pages, newest first.
    deliveries = AlertDelivery.objects.select_related("channel", "state")
    links = page_links(request, keyset_page(deliveries, order=("-created_at", "-pk"), **cursor.cursor()))
    if request.htmx:
        return render(request, "alerts/_deliveries.html", links)
    context = {
        "nav": "alerts", **links,
        "rules": AlertRule.objects.select_related("account", "vault").prefetch_related("channels"),
        "channels": AlertChannel.objects.all(),
        "alerts": AlertState.objects.select_related("rule", "account")[:RECENT_ALERTS],
    }  # fmt: skip
    return render(request, "alerts/index.html", context)


@requires(Capability.MANAGE_ALERTS)
def channel_create(request: HtmxHttpRequest) -> HttpResponse:
    form = ChannelForm(request.POST or None)
    if request.method != "POST" or not form.is_valid():
        status = 400 if request.method == "POST" else 200
        return render(request, "alerts/channel_form.html", {"nav": "alerts", "form": form}, status=status)
    channel = form.save(commit=False)
    channel.created_by = signed_in_user(request)
    channel.save()
    audit.record("alerts.channel_created", request=request, target=channel, details=_channel_details(channel))
    messages.success(request, f"Channel “{channel.name}” added. Send it a test to check the receiver.")
    return redirect("alerts:index")


@requires(Capability.MANAGE_ALERTS)
def channel_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(AlertChannel, pk=pk)
    before = _channel_fields(channel)  # read now: validating the form writes into the instance
    form = ChannelForm(request.POST or None, instance=channel)
    if request.method != "POST" or not form.is_valid():
        status = 400 if request.method == "POST" else 200
        return render(request, "alerts/channel_form.html", {"nav": "alerts", "form": form, "channel": channel}, status=status)
    channel = form.save()
    if changes := changed_fields(before, _channel_fields(channel), shown={"url": address_label}):
        audit.record("alerts.channel_changed", request=request, target=channel, details=changes)
    messages.success(request, f"Channel “{channel.name}” saved.")
    return redirect("alerts:index")


@requires(Capability.MANAGE_ALERTS)
@require_POST
def channel_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(AlertChannel, pk=pk)
    audit.record("alerts.channel_deleted", request=request, target=channel, details=_channel_details(channel))
    channel.delete()
    messages.success(request, "Channel deleted; its delivery log went with it.")
    return redirect("alerts:index")


@requires(Capability.MANAGE_ALERTS)
@require_POST
def channel_test(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(AlertChannel, pk=pk)
    delivery = deliver.send_test(channel=channel, requested_by=signed_in_user(request), now=timezone.now())
    audit.record("alerts.channel_test_requested", request=request, target=channel,
                 details={"delivery": delivery.pk, **_channel_details(channel)})  # fmt: skip
    messages.success(request, f"Test sent to “{channel.name}”; its result is in the delivery log below.")
    return redirect("alerts:index")


@requires(Capability.MANAGE_ALERTS)
def rule_create(request: HtmxHttpRequest) -> HttpResponse:
    form = RuleForm(request.POST or None)
    if request.method != "POST" or not form.is_valid():
        status = 400 if request.method == "POST" else 200
        return render(request, "alerts/rule_form.html", {"nav": "alerts", "form": form}, status=status)
    rule = form.save(commit=False)
    rule.created_by = signed_in_user(request)
    rule.created_at = timezone.now()
    rule.save()
    form.save_m2m()
    audit.record("alerts.rule_created", request=request, target=rule, details=_rule_details(rule))
    messages.success(request, f"Rule “{rule.name}” added; it is evaluated after each findings run and every few minutes.")
    return redirect("alerts:index")


@requires(Capability.MANAGE_ALERTS)
def rule_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(AlertRule, pk=pk)
    before = _rule_details(rule)  # read now: validating the form writes into the instance
    form = RuleForm(request.POST or None, instance=rule)
    if request.method != "POST" or not form.is_valid():
        status = 400 if request.method == "POST" else 200
        return render(request, "alerts/rule_form.html", {"nav": "alerts", "form": form, "rule": rule}, status=status)
    rule = form.save()
    if changes := changed_fields(before, _rule_details(rule)):
        audit.record("alerts.rule_changed", request=request, target=rule, details=changes)
    messages.success(request, f"Rule “{rule.name}” saved.")
    return redirect("alerts:index")


@requires(Capability.MANAGE_ALERTS)
@require_POST
def rule_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(AlertRule, pk=pk)
    audit.record("alerts.rule_deleted", request=request, target=rule, details=_rule_details(rule))
    rule.delete()
    messages.success(request, "Rule deleted; its alert history went with it.")
    return redirect("alerts:index")
