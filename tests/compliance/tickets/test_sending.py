"""Creating tickets against a real local HTTP server that answers like Jira, Linear or a webhook."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User

from compliance.models import AuditLogEntry
from compliance.tickets.models import TicketDestination, TicketLink
from compliance.tickets.payloads import LINEAR_ISSUE_CREATE
from compliance.tickets.sending import TicketError, create_ticket
from tests.compliance.tickets.conftest import TOKEN, TOKEN_ENV, Tracker
from tests.vaults.factories import make_op_user
from vaults.cleanup.plans import generate_plan
from vaults.findings.models import Finding
from vaults.models import Account

pytestmark = pytest.mark.django_db
BASE = "https://openclaw.example"


def jira(tracker: Tracker, path: str = "/jira", **extra: object) -> TicketDestination:
    fields = {"name": f"Jira {path}", "kind": "jira", "url": tracker.url + path, "auth_env": TOKEN_ENV, "project": "SEC",
              "labels": "openclaw, vault-hygiene", **extra}  # fmt: skip
    return TicketDestination.objects.create(**fields)


def linear(tracker: Tracker, path: str = "/linear/graphql") -> TicketDestination:
    return TicketDestination.objects.create(name=f"Linear {path}", kind="linear", url=tracker.url + path,
                                            auth_env=TOKEN_ENV, project="team-uuid-1")  # fmt: skip


def an_item_finding(account: Account) -> Finding:
    finding = account.findings.filter(item__isnull=False, vault__isnull=False).order_by("pk").first()
    assert finding is not None
    return finding


def send(finding: Finding, destination: TicketDestination, user: User, subject: str = "finding"):
    return create_ticket(subject=subject, subject_id=finding.pk, destination_id=destination.pk, by=user, base_url=BASE)


def test_a_jira_ticket_posts_the_project_summary_and_an_adf_description_and_keeps_the_browse_url(
    org, tracker, token_env, team_lead
):
    finding = an_item_finding(org)
    destination = jira(tracker)

    outcome = send(finding, destination, team_lead)

    assert outcome.created
    [request] = tracker.requests
    assert request.path == "/jira/rest/api/3/issue"
    assert request.headers["Authorization"] == TOKEN
    fields = request.json()["fields"]
    assert fields["project"] == {"key": "SEC"}
    assert fields["issuetype"] == {"name": "Task"}
    assert fields["labels"] == ["openclaw", "vault-hygiene"]
    assert fields["summary"] == f"[OpenClaw] {finding.get_severity_display()} {finding.get_kind_display()}: {finding.title}"[:255]
    description = fields["description"]
    assert description["type"] == "doc" and description["version"] == 1
    texts = [node.get("text", "") for p in description["content"] for node in p["content"]]
    assert finding.explanation.split("\n")[0] in texts
    assert f"Vault: {finding.vault.name}" in texts and f"Item: {finding.item.title}" in texts
    link = f"{BASE}/findings/{finding.pk}/"
    marked = [n for p in description["content"] for n in p["content"] if n.get("marks")]
    assert marked == [{"type": "text", "text": link, "marks": [{"type": "link", "attrs": {"href": link}}]}]
    stored = TicketLink.objects.get()
    assert (stored.subject_kind, stored.subject_id, stored.external_key) == ("finding", finding.pk, "SEC-42")
    assert stored.url == f"{tracker.url}/jira/browse/SEC-42"
    assert stored.response_status == 201 and stored.created_by == team_lead
    entry = AuditLogEntry.objects.get(action="ticket.created")
    assert entry.target_type == "findings.finding" and entry.target_id == str(finding.pk)
    assert entry.details["destination"] == destination.name and entry.details["key"] == "SEC-42"
    assert TOKEN not in json.dumps(entry.details) and "VElDS0VU" not in json.dumps(entry.details)


def test_jira_data_center_gets_a_plain_text_description_on_rest_v2(org, tracker, token_env, team_lead):
    finding = an_item_finding(org)
    destination = jira(tracker, kind="jira_v2", description_template="Why: {explanation}\nSee {link}")

    send(finding, destination, team_lead)

    [request] = tracker.requests
    assert request.path == "/jira/rest/api/2/issue"
    assert request.json()["fields"]["description"] == f"Why: {finding.explanation}\nSee {BASE}/findings/{finding.pk}/".strip()


def test_a_linear_ticket_posts_the_issue_create_mutation_and_keeps_the_url_linear_returns(
    org, tracker, token_env, compliance_officer
):
    finding = org.findings.filter(severity="high").first() or an_item_finding(org)
    destination = linear(tracker)

    send(finding, destination, compliance_officer)

    [request] = tracker.requests
    body = request.json()
    assert body["query"] == LINEAR_ISSUE_CREATE
    assert "issueCreate(input: $input)" in body["query"] and "url" in body["query"]
    issue = body["variables"]["input"]
    assert issue["teamId"] == "team-uuid-1"
    assert issue["title"].endswith(finding.title[:100]) or finding.title[:100] in issue["title"]
    assert finding.explanation.split("\n")[0] in issue["description"]
    assert issue["priority"] == {"high": 2, "medium": 3, "low": 4}[finding.severity]
    assert request.headers["Authorization"] == TOKEN
    stored = TicketLink.objects.get()
    assert (stored.external_key, stored.url) == ("SEC-7", "https://linear.app/acme/issue/SEC-7/rotate")


def test_a_generic_webhook_gets_the_subject_and_its_answer_is_kept(org, tracker, team_lead):
    finding = an_item_finding(org)
    destination = TicketDestination.objects.create(name="Hook", kind="generic", url=tracker.url + "/webhook")

    send(finding, destination, team_lead)

    [request] = tracker.requests
    assert "Authorization" not in request.headers  # no variable named: none sent
    body = request.json()
    assert body["subject"] == {"kind": "finding", "id": finding.pk, "url": f"{BASE}/findings/{finding.pk}/"}
    assert body["severity"] == finding.get_severity_display()
    assert TicketLink.objects.get().url == "https://tickets.example/T-9"


@pytest.mark.parametrize(
    ("path", "kind", "says"),
    [
        ("/jira-401", "jira", "HTTP 401"),
        ("/jira-500", "jira", "HTTP 500"),
        ("/jira-notjson", "jira", "without an issue key"),
        ("/jira-nokey", "jira", "without an issue key"),
        ("/jira-redirect", "jira", "HTTP 302"),
        ("/linear-errors/graphql", "linear", "Entity not found: Team"),
        ("/linear-jsurl/graphql", "linear", "without a created issue and its URL"),
        ("/nowhere", "generic", "HTTP 404"),
    ],
)
def test_a_refused_or_unusable_answer_stores_no_link_and_says_why(org, tracker, token_env, team_lead, path, kind, says):
    finding = an_item_finding(org)
    destination = (jira(tracker, path) if kind == "jira" else linear(tracker, path) if kind == "linear" else
                   TicketDestination.objects.create(name="Hook", kind="generic", url=tracker.url + path, auth_env=TOKEN_ENV))  # fmt: skip

    with pytest.raises(TicketError) as raised:
        send(finding, destination, team_lead)

    assert says in str(raised.value)
    assert TOKEN not in str(raised.value) and "VElDS0VU" not in str(raised.value) and "TICKET-TOKEN" not in str(raised.value)
    assert not TicketLink.objects.exists()
    entry = AuditLogEntry.objects.get(action="ticket.failed")
    assert entry.target_id == str(finding.pk) and entry.details["destination"] == destination.name
    assert says in entry.details["error"] and "TICKET-TOKEN" not in json.dumps(entry.details)
    assert not AuditLogEntry.objects.filter(action="ticket.created").exists()
    assert len(tracker.requests) == 1  # the redirect was not followed


def test_an_unreachable_tracker_is_a_clear_error(org, team_lead):
    destination = TicketDestination.objects.create(name="Down", kind="jira", url="http://127.0.0.1:9", project="SEC")

    with pytest.raises(TicketError, match="request failed"):
        send(an_item_finding(org), destination, team_lead)

    assert not TicketLink.objects.exists()


def test_a_disabled_destination_cannot_be_used(org, tracker, token_env, team_lead):
    destination = jira(tracker, enabled=False)

    with pytest.raises(TicketError, match="disabled"):
        send(an_item_finding(org), destination, team_lead)

    assert tracker.requests == [] and not TicketLink.objects.exists()


def test_a_variable_outside_the_ticket_prefix_is_never_sent(org, tracker, team_lead, monkeypatch):
    # Written straight to the database (the form refuses it): the sender refuses it too.
    monkeypatch.setenv("OP_SERVICE_ACCOUNT_TOKEN", "ops_service_account_token_value")
    destination = jira(tracker, auth_env="OP_SERVICE_ACCOUNT_TOKEN")

    with pytest.raises(TicketError, match="TICKET_AUTH_"):
        send(an_item_finding(org), destination, team_lead)

    assert tracker.requests == []


def test_an_unset_variable_is_named_and_nothing_is_sent(org, tracker, team_lead, monkeypatch):
    monkeypatch.delenv(TOKEN_ENV, raising=False)

    with pytest.raises(TicketError, match=f"{TOKEN_ENV} is not set"):
        send(an_item_finding(org), jira(tracker), team_lead)

    assert tracker.requests == []


def test_a_second_request_for_the_same_destination_reuses_the_ticket(org, tracker, token_env, team_lead):
    finding = an_item_finding(org)
    destination = jira(tracker)
    send(finding, destination, team_lead)

    again = send(finding, destination, team_lead)

    assert not again.created and again.link.external_key == "SEC-42"
    assert len(tracker.requests) == 1 and TicketLink.objects.count() == 1


def test_a_hostile_title_stays_inside_its_json_string(org, tracker, token_env, team_lead):
    finding = an_item_finding(org)
    hostile = '"}, "fields": {"project": {"key": "EVIL"}}, "x": "\u202egpj.exe\x07\n=HYPERLINK("http://x") {0.__class__} {link'
    Finding.objects.filter(pk=finding.pk).update(title=hostile)
    finding.refresh_from_db()

    send(finding, jira(tracker), team_lead)

    [request] = tracker.requests
    assert request.body.isascii()  # ensure_ascii: bidi and control characters travel escaped
    fields = request.json()["fields"]
    assert fields["project"] == {"key": "SEC"}
    assert set(request.json()) == {"fields"}
    # The summary is one line that reads as it is: the bidi override is dropped (a tracker would show
    # "gpj.exe" reversed), the rest stays as literal text, no placeholder expanded.
    assert fields["summary"].endswith('"x": "gpj.exe =HYPERLINK("http://x") {0.__class__} {link')
    assert "\u202e" not in fields["summary"]
    assert "\x07" not in fields["summary"] and "\n" not in fields["summary"]


def test_a_cleanup_plan_ticket_lists_its_actions(org, tracker, token_env, team_lead):
    org.vaults.update(owner=team_lead)  # team leads plan on the vaults they own
    plan, _ = generate_plan(account=org, proposed_by=team_lead)
    destination = jira(tracker, kind="jira_v2", summary_template="{subject}: {title} ({status})",
                       description_template="{explanation}\n{link}")  # fmt: skip

    outcome = create_ticket(subject="plan", subject_id=plan.pk, destination_id=destination.pk, by=team_lead, base_url=BASE)

    fields = tracker.requests[0].json()["fields"]
    assert fields["summary"] == f"Cleanup plan: {plan.title} (Draft)"
    count = plan.actions.count()
    assert fields["description"].startswith(f"{count} action{'s' if count != 1 else ''}: ")
    first = plan.actions.order_by("position", "pk").first()
    assert f"- {first.get_kind_display()}:" in fields["description"]
    assert fields["description"].endswith(f"{BASE}/cleanup/{plan.pk}/")
    assert (outcome.link.subject_kind, outcome.link.subject_id) == ("plan", plan.pk)
    assert AuditLogEntry.objects.get(action="ticket.created").target_type == "cleanup.cleanupplan"


def test_an_offboarding_case_ticket_names_the_leaver_and_the_due_date(org, tracker, token_env, compliance_officer):
    import datetime

    from django.utils import timezone

    from vaults.offboarding.models import OffboardingCase

    person = make_op_user(account=org, name="Lee Leaver", email="lee.leaver@example.com")
    case = OffboardingCase.objects.create(
        account=org, op_user=person, email=person.email, name=person.name, reason="marked_leaving",
        leave_date=datetime.date(2026, 11, 20), due_date=datetime.date(2026, 11, 27), lookback_days=90,
        opened_at=timezone.now(),
    )  # fmt: skip
    destination = linear(tracker)

    create_ticket(subject="offboarding", subject_id=case.pk, destination_id=destination.pk, by=compliance_officer, base_url=BASE)

    issue = tracker.requests[0].json()["variables"]["input"]
    assert person.email in issue["title"] or person.name in issue["title"]
    assert "leaves on 2026-11-20" in issue["description"] and "due by 2026-11-27" in issue["description"]
    assert "priority" not in issue  # a case has no severity
    assert f"OpenClaw: {BASE}/offboarding/{case.pk}/" in issue["description"]
    assert TicketLink.objects.get().subject_kind == "offboarding"
