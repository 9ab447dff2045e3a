"""Invariant 1 for tickets: after a real sync of an organisation whose secrets are `CANARY-…`
strings (the fake `op` as a subprocess), tickets for every open finding, a cleanup plan and the
CSV export carry no canary, no piece of one, no fingerprint and no finding key."""

from __future__ import annotations

import pytest
from django.urls import reverse

from compliance.tickets.models import TicketDestination, TicketLink
from compliance.tickets.sending import create_ticket
from tests.compliance.tickets.conftest import TOKEN_ENV
from tests.security.canaries import CanaryScanner, planted_secrets
from vaults.cleanup.plans import generate_plan
from vaults.findings.models import Finding
from vaults.models import Item, SecretField

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
BASE = "https://openclaw.example"


def test_no_canary_fingerprint_or_finding_key_reaches_a_ticket_or_the_csv(
    fake_org, synced, tracker, token_env, team_lead, client_for
):
    scanner = CanaryScanner(planted_secrets(fake_org.data))
    assert scanner.find(fake_org.path.read_bytes()), "the scan finds nothing where every secret is planted"
    destinations = [
        TicketDestination.objects.create(name="Jira", kind="jira", url=tracker.url + "/jira", auth_env=TOKEN_ENV, project="SEC",
                                         description_template="{explanation}\n{recommended_action}\n{item_id} {person} {vault}"),
        TicketDestination.objects.create(name="Linear", kind="linear", url=tracker.url + "/linear/graphql", auth_env=TOKEN_ENV,
                                         project="team"),
        TicketDestination.objects.create(name="Hook", kind="generic", url=tracker.url + "/webhook"),
    ]  # fmt: skip
    findings = list(synced.findings.filter(status=Finding.Status.OPEN).order_by("kind", "pk"))
    kinds = {f.kind for f in findings}
    assert "duplicate" in kinds and len(kinds) >= 5, kinds
    for n, finding in enumerate(findings):
        create_ticket(subject="finding", subject_id=finding.pk, destination_id=destinations[n % 3].pk, by=team_lead, base_url=BASE)
    synced.vaults.update(owner=team_lead)
    plan, _ = generate_plan(account=synced, proposed_by=team_lead)
    create_ticket(subject="plan", subject_id=plan.pk, destination_id=destinations[0].pk, by=team_lead, base_url=BASE)
    response = client_for(team_lead).get(reverse("tickets:export_csv"), {"status": "all"})
    exported = b"".join(response.streaming_content)
    assert TicketLink.objects.count() == len(findings) + 1 == len(tracker.requests)

    haystacks = [(f"{r.path} #{n}", r.body) for n, r in enumerate(tracker.requests)] + [("csv", exported)]
    scanner.assert_absent(haystacks)
    fingerprints = {f for f in SecretField.objects.exclude(fingerprint__isnull=True).values_list("fingerprint", flat=True) if f}
    fingerprints |= {f for f in Item.objects.values_list("username_fingerprint", flat=True) if f}
    keys = set(synced.findings.filter(kind__in=["duplicate", "reused_secret"]).values_list("key", flat=True))
    assert fingerprints and keys
    for where, body in haystacks:
        text = body.decode()
        assert not [f for f in fingerprints if f in text or f[:16] in text], where
        assert not [k for k in keys if k in text], where
    assert len(exported.decode().splitlines()) > len(findings)  # every finding has a row (descriptions span lines)
