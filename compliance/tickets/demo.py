"""The demo's ticket destination: a Jira project as an administrator would enter it, pointed at a
loopback port where nothing listens. "Create ticket" on a finding, a plan or a leaver then shows
the real sending path and its clear refusal; no ticket, key or URL is ever made up.

Idempotent: a destination that exists by name is left as a person may have changed it.
"""

from __future__ import annotations

from django.contrib.auth.models import User

from compliance import audit
from compliance.tickets.forms import DestinationForm
from compliance.tickets.models import DEFAULT_DESCRIPTION_TEMPLATE, DEFAULT_SUMMARY_TEMPLATE, TicketDestination

DEMO_DESTINATION = "Jira SEC (demo: no Jira server)"
# Port 9 (discard) on loopback: the connection is refused, and nothing leaves the machine.
DEMO_JIRA_URL = "http://127.0.0.1:9"


def seed_demo_destination(*, admin: User) -> TicketDestination:
    existing = TicketDestination.objects.filter(name=DEMO_DESTINATION).first()
    if existing is not None:
        return existing
    form = DestinationForm({
        "name": DEMO_DESTINATION, "kind": TicketDestination.Kind.JIRA, "url": DEMO_JIRA_URL, "project": "SEC",
        "issue_type": "Task", "labels": "openclaw, security", "summary_template": DEFAULT_SUMMARY_TEMPLATE,
        "description_template": DEFAULT_DESCRIPTION_TEMPLATE, "enabled": "on",
    })  # fmt: skip
    if not form.is_valid():  # the demo's own data: a failure here is a bug, said loudly
        raise ValueError(f"demo ticket destination: {form.errors.as_json()}")
    destination = form.save()
    audit.record("ticket_destination.created", actor=admin, target=destination,
                 details={name: getattr(destination, name) for name in DestinationForm.Meta.fields} | {"via": "demo"})  # fmt: skip
    return destination
