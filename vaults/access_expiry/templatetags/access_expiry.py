"""`{% person_end_dates person %}`: the end-dates card of the person page, so the person view
stays as it is (one include, no new context); and the words of an end date's status and of a
contractor's week of use (wording.py), shared with the weekly mail."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from vaults.access_expiry import wording
from vaults.access_expiry.forms import EndDateForm
from vaults.access_expiry.models import AccessEndDate
from vaults.access_expiry.report import REPORT_DAYS, ContractorRow
from vaults.access_expiry.sponsorship import change_refusal
from vaults.models import OpUser, Vault

register = template.Library()


@register.inclusion_tag("access_expiry/_person_end_dates.html", takes_context=True)
def person_end_dates(context: dict[str, Any], person: OpUser) -> dict[str, Any]:
    request = context.get("request")
    rows = list(
        AccessEndDate.objects.filter(op_user=person)
        .exclude(status=AccessEndDate.Status.CLEARED)
        .select_related("sponsor", "removal_plan", "outside_scope_plan")
        .prefetch_related("vaults")
        .order_by("-status", "ends_on", "pk")
    )
    user = request.user if request is not None else AnonymousUser()
    for row in rows:
        # The Clear button only where schedule.clear_end_date would accept it (sponsorship.py).
        row.changeable = row.is_open and not change_refusal(user, row)  # type: ignore[attr-defined]
    preset = request.GET.get("end_vault", "") if request is not None else ""
    initial: dict[str, Any] = {"scope": "all"}
    if preset.isdigit() and Vault.objects.filter(pk=int(preset), account_id=person.account_id).exists():
        initial = {"scope": "vaults", "vaults": [int(preset)]}
    return {
        "person": person,
        "rows": rows,
        "today": timezone.localdate(),
        "form": EndDateForm(initial=initial, person=person, user=user),
        "can": context.get("can", {}),
        "csrf_token": context.get("csrf_token"),
        "settable": not person.is_service_account and person.removed_at is None,
    }


@register.filter
def end_status(end: AccessEndDate) -> str:
    return wording.end_status(end, timezone.localdate())


@register.filter
def usage_summary(row: ContractorRow) -> str:
    return wording.usage_summary(uses=row.uses, items=row.item_count, days=REPORT_DAYS)
