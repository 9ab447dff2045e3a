"""`{% ticket_panel "finding" finding %}`: a subject's tickets and the "Create ticket" control,
dropped into the finding, plan and offboarding pages without touching their views.
`{% finding_tickets page as tickets %}`: the tickets of one page of findings, in one query."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.urls import reverse

from compliance.tickets.models import TicketDestination, TicketLink
from compliance.tickets.sending import links_for
from compliance.tickets.subjects import SUBJECTS

register = template.Library()


@register.inclusion_tag("tickets/_panel.html", takes_context=True)
def ticket_panel(context: template.Context, subject: str, obj: Any) -> dict[str, Any]:
    kind = SUBJECTS[subject]
    can = context.get("can") or {}
    links = list(TicketLink.objects.filter(subject_kind=kind.name, subject_id=obj.pk).select_related("destination"))
    may_create = bool(can.get("create_tickets"))
    linked = {link.destination_id for link in links}
    choices = [d for d in TicketDestination.objects.filter(enabled=True) if d.pk not in linked] if may_create else []
    return {
        "links": links,
        "kind": kind,
        "may_create": may_create,
        "may_configure": bool(can.get("manage_ticket_destinations")),
        "choices": choices,
        "action": reverse(f"tickets:create_for_{kind.name}", args=[obj.pk]),
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag
def finding_tickets(findings: Iterable[Any]) -> dict[int, list[TicketLink]]:
    """Iterating a Page makes it keep its rows, so the table's own loop does not query again."""
    return links_for("finding", [f.pk for f in findings])


@register.filter
def tickets_of(tickets: dict[int, list[TicketLink]], pk: int) -> list[TicketLink]:
    return tickets.get(pk, [])
