"""A slow tracker holds no lock: while one ticket is being posted, the destination row can be
edited and other subjects get their tickets; a second click for the same subject still never
posts a second ticket. Real threads, real PostgreSQL transactions, a real local HTTP server."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from django.db import connection, transaction

from compliance.tickets.models import TicketDestination, TicketLink, TicketSend
from compliance.tickets.sending import TicketError, TicketOutcome, create_ticket
from tests.compliance.tickets.conftest import TOKEN_ENV, Received, Tracker, _jira_created
from vaults.findings.models import Finding

pytestmark = pytest.mark.django_db(transaction=True)
BASE = "https://openclaw.example"


class Gate:
    """Holds the tracker's first answer until the test opens it."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.open = threading.Event()
        self.held = False

    def route(self, request: Received):
        if not self.held:
            self.held = True
            self.arrived.set()
            assert self.open.wait(20)
        return _jira_created(request)


@pytest.fixture
def gate(tracker: Tracker) -> Iterator[Gate]:
    g = Gate()
    tracker.routes["/slow/rest/api/3/issue"] = g.route
    yield g
    g.open.set()  # never leave the server thread waiting


def _send(finding: Finding, destination: TicketDestination, user) -> TicketOutcome:
    return create_ticket(subject="finding", subject_id=finding.pk, destination_id=destination.pk, by=user, base_url=BASE)


def _in_thread(finding, destination, user, outcome: dict) -> threading.Thread:
    def run() -> None:
        try:
            outcome["result"] = _send(finding, destination, user)
        except Exception as exc:  # reported to the test below
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_slow_tracker_blocks_no_writer_and_a_second_click_posts_nothing(org, tracker, gate, token_env, team_lead):
    destination = TicketDestination.objects.create(name="Slow Jira", kind="jira", url=tracker.url + "/slow",
                                                   auth_env=TOKEN_ENV, project="SEC")  # fmt: skip
    first, other = list(org.findings.filter(item__isnull=False).order_by("pk"))[:2]
    outcome: dict = {}
    thread = _in_thread(first, destination, team_lead, outcome)
    assert gate.arrived.wait(10), "the first send never reached the tracker"

    # The destination row is free while the tracker thinks: an edit waits at most a second.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '1s'")
        assert TicketDestination.objects.filter(pk=destination.pk).update(labels="edited-meanwhile") == 1
    # The same subject again: told it is under way, and nothing posted.
    with pytest.raises(TicketError, match="being created right now"):
        _send(first, destination, team_lead)
    # Decoy: another subject at the same destination is not held up by the first.
    assert _send(other, destination, team_lead).created

    gate.open.set()
    thread.join(20)
    assert "error" not in outcome and outcome["result"].created
    assert _send(first, destination, team_lead).created is False  # the link now answers
    assert len(tracker.requests) == 2
    assert TicketLink.objects.filter(subject_id__in=[first.pk, other.pk]).count() == 2
    assert not TicketSend.objects.exists()


def test_a_failed_send_releases_its_claim_so_the_next_click_can_post(org, tracker, token_env, team_lead):
    finding = org.findings.filter(item__isnull=False).order_by("pk").first()
    broken = TicketDestination.objects.create(name="Jira 500", kind="jira", url=tracker.url + "/jira-500",
                                              auth_env=TOKEN_ENV, project="SEC")  # fmt: skip

    with pytest.raises(TicketError, match="HTTP 500"):
        _send(finding, broken, team_lead)
    tracker.routes["/jira-500/rest/api/3/issue"] = _jira_created

    assert _send(finding, broken, team_lead).created
    assert not TicketSend.objects.exists() and TicketLink.objects.count() == 1
