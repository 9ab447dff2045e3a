"""The "Create ticket" control on the finding and plan pages, the ticket link shown there and on
the findings list, the destinations settings page, and the findings-as-tickets CSV."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from compliance.models import AuditLogEntry
from compliance.tickets.models import TicketDestination, TicketLink
from tests.compliance.tickets.conftest import TOKEN, TOKEN_ENV
from vaults.cleanup.plans import generate_plan
from vaults.findings.models import Finding

pytestmark = pytest.mark.django_db


def jira(tracker, **extra) -> TicketDestination:
    fields = {"name": "Security Jira", "kind": "jira", "url": tracker.url + "/jira", "auth_env": TOKEN_ENV, "project": "SEC", **extra}
    return TicketDestination.objects.create(**fields)


def a_finding(org) -> Finding:
    return org.findings.filter(item__isnull=False).order_by("pk").first()


def test_a_team_lead_creates_a_ticket_from_the_finding_page_and_sees_its_link(org, tracker, token_env, team_lead, client_for):
    finding = a_finding(org)
    destination = jira(tracker)
    client = client_for(team_lead)
    page = client.get(reverse("findings:detail", args=[finding.pk])).content.decode()
    assert "data-create-ticket" in page and f'<option value="{destination.pk}">Security Jira' in page

    response = client.post(reverse("tickets:create_for_finding", args=[finding.pk]), {"destination": destination.pk}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("findings:detail", args=[finding.pk])
    html = response.content.decode()
    assert "Created ticket SEC-42 in Security Jira." in html
    assert f'href="{tracker.url}/jira/browse/SEC-42"' in html
    assert "data-create-ticket" not in html  # the one destination already has this finding's ticket
    assert len(tracker.requests) == 1


def test_a_viewer_sees_the_ticket_link_but_no_control_and_cannot_post(org, tracker, token_env, viewer, client_for):
    finding = a_finding(org)
    destination = jira(tracker)
    TicketLink.objects.create(subject_kind="finding", subject_id=finding.pk, destination=destination,
                              external_key="SEC-1", url="https://acme.atlassian.net/browse/SEC-1", response_status=201)  # fmt: skip
    client = client_for(viewer)

    page = client.get(reverse("findings:detail", args=[finding.pk])).content.decode()
    refused = client.post(reverse("tickets:create_for_finding", args=[finding.pk]), {"destination": destination.pk})

    assert 'href="https://acme.atlassian.net/browse/SEC-1"' in page and "data-create-ticket" not in page
    assert refused.status_code == 403 and tracker.requests == []


def test_the_findings_list_marks_findings_that_have_a_ticket(org, tracker, viewer, client_for):
    with_ticket, _without = list(org.findings.order_by("pk")[:2])
    TicketLink.objects.create(subject_kind="finding", subject_id=with_ticket.pk, destination=jira(tracker),
                              external_key="SEC-5", url="https://acme.atlassian.net/browse/SEC-5", response_status=201)  # fmt: skip

    html = client_for(viewer).get(reverse("findings:list")).content.decode()

    assert html.count("ticket-marker") == 1 and 'href="https://acme.atlassian.net/browse/SEC-5"' in html


def test_a_failed_creation_shows_the_reason_and_stores_no_link(org, tracker, token_env, team_lead, client_for):
    finding = a_finding(org)
    destination = jira(tracker, url=tracker.url + "/jira-401")

    response = client_for(team_lead).post(reverse("tickets:create_for_finding", args=[finding.pk]),
                                          {"destination": destination.pk}, follow=True)  # fmt: skip

    html = response.content.decode()
    assert "No ticket was created: Security Jira: Jira refused the ticket (HTTP 401)." in html
    assert "[redacted]" in html and "VElDS0VU" not in html and TOKEN not in html
    assert not TicketLink.objects.exists() and "No ticket yet." in html


def test_a_disabled_destination_is_not_offered_and_a_forged_post_is_refused(org, tracker, token_env, team_lead, client_for):
    finding = a_finding(org)
    disabled = jira(tracker, enabled=False)
    client = client_for(team_lead)

    page = client.get(reverse("findings:detail", args=[finding.pk])).content.decode()
    response = client.post(reverse("tickets:create_for_finding", args=[finding.pk]), {"destination": disabled.pk}, follow=True)

    assert f'<option value="{disabled.pk}"' not in page and "No ticket destination is enabled." in page
    assert "Choose an enabled ticket destination." in response.content.decode()
    assert tracker.requests == [] and not TicketLink.objects.exists()


def test_the_plan_page_offers_a_ticket_and_shows_it_once_created(org, tracker, token_env, team_lead, client_for):
    org.vaults.update(owner=team_lead)
    plan, _ = generate_plan(account=org, proposed_by=team_lead)
    destination = jira(tracker)
    client = client_for(team_lead)
    assert "data-create-ticket" in client.get(reverse("cleanup:plan", args=[plan.pk])).content.decode()

    response = client.post(reverse("tickets:create_for_plan", args=[plan.pk]), {"destination": destination.pk}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("cleanup:plan", args=[plan.pk])
    assert f'href="{tracker.url}/jira/browse/SEC-42"' in response.content.decode()


def test_a_compliance_officer_adds_a_destination_and_it_is_audited(db, compliance_officer, client_for):
    client = client_for(compliance_officer)
    form = {"name": "Linear Security", "kind": "linear", "url": "https://api.linear.app/graphql", "auth_env": "TICKET_AUTH_LINEAR",
            "project": "9cfb0f2e-team", "issue_type": "Task", "labels": "", "summary_template": "{severity}: {title}",
            "description_template": "{explanation}\n{link}", "enabled": "on"}  # fmt: skip

    response = client.post(reverse("tickets:settings"), form)

    assert response.status_code == 302
    destination = TicketDestination.objects.get()
    assert (destination.kind, destination.auth_env, destination.project) == ("linear", "TICKET_AUTH_LINEAR", "9cfb0f2e-team")
    entry = AuditLogEntry.objects.get(action="ticket_destination.created")
    assert entry.details["auth_env"] == "TICKET_AUTH_LINEAR" and entry.actor == compliance_officer


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"auth_env": "OP_SERVICE_ACCOUNT_TOKEN"}, "starting TICKET_AUTH_"),
        ({"auth_env": "SECRET_KEY"}, "starting TICKET_AUTH_"),
        ({"summary_template": "{title} {details}"}, "Unknown placeholder {details}"),
        ({"description_template": "{Title} {explanation}"}, "Unknown placeholder {Title}"),
        ({"url": "file:///etc/passwd"}, "Enter a valid URL"),
        ({"url": "https://user:pw@acme.atlassian.net"}, "not in the URL"),
        ({"project": "sec project"}, "A Jira project key"),
        ({"labels": "two words"}, "cannot contain spaces"),
    ],
)
def test_the_destination_form_refuses_what_could_leak_or_break(db, admin_user, client_for, change, error):
    form = {"name": "Jira", "kind": "jira", "url": "https://acme.atlassian.net", "auth_env": "TICKET_AUTH_JIRA", "project": "SEC",
            "issue_type": "Task", "labels": "openclaw", "summary_template": "{title}", "description_template": "{explanation}",
            "enabled": "on", **change}  # fmt: skip

    response = client_for(admin_user).post(reverse("tickets:settings"), form)

    assert response.status_code == 400
    assert error in response.content.decode().replace("&#x27;", "'")
    assert not TicketDestination.objects.exists()


def test_editing_a_destination_audits_what_changed(db, tracker, admin_user, client_for):
    destination = jira(tracker)
    form = {"name": "Security Jira", "kind": "jira", "url": destination.url, "auth_env": TOKEN_ENV, "project": "OPS",
            "issue_type": "Bug", "labels": "", "summary_template": destination.summary_template,
            "description_template": destination.description_template}  # fmt: skip  # "enabled" unticked

    response = client_for(admin_user).post(reverse("tickets:destination", args=[destination.pk]), form)

    assert response.status_code == 302
    destination.refresh_from_db()
    assert (destination.project, destination.enabled) == ("OPS", False)
    details = AuditLogEntry.objects.get(action="ticket_destination.changed").details
    assert details["project"] == {"before": "SEC", "after": "OPS"} and details["enabled"] == {"before": True, "after": False}
    assert "name" not in details


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_csv_export_has_a_row_per_filtered_finding_with_formulas_escaped_and_ticket_urls(
    org, tracker, team_lead, client_for
):
    weak = org.findings.get(kind="weak")
    Finding.objects.filter(pk=weak.pk).update(title='=HYPERLINK("http://evil.example","click")')
    TicketLink.objects.create(subject_kind="finding", subject_id=weak.pk, destination=jira(tracker),
                              external_key="SEC-9", url="https://acme.atlassian.net/browse/SEC-9", response_status=201)  # fmt: skip

    response = client_for(team_lead).get(reverse("tickets:export_csv"), {"kind": "weak"})

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    header, *rows = _csv(response)
    assert header[:3] == ["summary", "description", "severity"] and header[-2:] == ["finding url", "ticket url"]
    assert len(rows) == org.findings.filter(kind="weak", status="open").count() == 1
    [row] = rows
    assert row[0] == '[OpenClaw] High Weak secret: =HYPERLINK("http://evil.example","click")'
    assert row[6] == "Payments Production DB Password" and row[7] == str(weak.pk)
    assert row[8].endswith(f"/findings/{weak.pk}/") and row[9] == "https://acme.atlassian.net/browse/SEC-9"
    assert AuditLogEntry.objects.filter(action="tickets.exported").exists()


def test_a_csv_cell_that_starts_a_formula_is_escaped(org, team_lead, client_for):
    weak = org.findings.get(kind="weak")
    Finding.objects.filter(pk=weak.pk).update(explanation="=cmd|' /C calc'!A0", title="@SUM(1+1)")

    response = client_for(team_lead).get(reverse("tickets:export_csv"),
                                         {"kind": "weak"})  # fmt: skip

    [_, row] = _csv(response)
    assert row[1].startswith("'=cmd|")  # the description starts with the hostile explanation


def test_the_csv_export_refuses_an_invalid_filter_and_a_viewer(org, team_lead, viewer, client_for):
    assert client_for(team_lead).get(reverse("tickets:export_csv"), {"severity": "catastrophic"}).status_code == 400
    assert client_for(viewer).get(reverse("tickets:export_csv")).status_code == 403


def test_the_offboarding_case_page_offers_a_ticket(org, tracker, token_env, compliance_officer, client_for):
    import datetime

    from django.utils import timezone

    from tests.vaults.factories import make_op_user
    from vaults.offboarding.models import OffboardingCase

    person = make_op_user(account=org, name="Lee Leaver", email="lee.leaver@example.com")
    case = OffboardingCase.objects.create(account=org, op_user=person, email=person.email, name=person.name,
                                          reason="marked_leaving", leave_date=datetime.date(2026, 11, 20),
                                          due_date=datetime.date(2026, 11, 27), lookback_days=90, opened_at=timezone.now())  # fmt: skip
    destination = jira(tracker)
    client = client_for(compliance_officer)
    assert "data-create-ticket" in client.get(reverse("offboarding:detail", args=[case.pk])).content.decode()

    response = client.post(reverse("tickets:create_for_offboarding", args=[case.pk]), {"destination": destination.pk}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("offboarding:detail", args=[case.pk])
    assert f'href="{tracker.url}/jira/browse/SEC-42"' in response.content.decode()


def test_the_findings_list_links_its_filter_to_the_ticket_csv_for_those_who_may_export(org, team_lead, viewer, client_for):
    lead_html = client_for(team_lead).get(reverse("findings:list"), {"kind": "weak"}).content.decode()
    viewer_html = client_for(viewer).get(reverse("findings:list"), {"kind": "weak"}).content.decode()

    assert f'href="{reverse("tickets:export_csv")}?kind=weak" data-ticket-export' in lead_html
    assert "data-ticket-export" not in viewer_html


def test_the_create_ticket_form_carries_a_working_csrf_token(org, tracker, token_env, team_lead):
    import re

    from django.test import Client

    finding = a_finding(org)
    destination = jira(tracker)
    client = Client(enforce_csrf_checks=True)
    client.force_login(team_lead)
    page = client.get(reverse("findings:detail", args=[finding.pk])).content.decode()
    form = page[page.index('class="filters ticket-create"') :]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    url = reverse("tickets:create_for_finding", args=[finding.pk])

    forged = client.post(url, {"destination": destination.pk})
    sent = client.post(url, {"destination": destination.pk, "csrfmiddlewaretoken": token})

    assert forged.status_code == 403 and sent.status_code == 302
    assert TicketLink.objects.count() == 1 and len(tracker.requests) == 1
