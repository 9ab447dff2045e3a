"""Reminders to reviewers without an e-mail address: counted and named, never "sent"."""

from __future__ import annotations

from django.core import mail
from django.urls import reverse

from compliance.reviews import review as flow
from compliance.reviews.models import AccessReview


def test_nobody_with_an_address_sends_nothing_and_records_no_last_reminder(opened, team_lead, compliance_officer):
    team_lead.first_name, team_lead.last_name = "Tom", "Lead"
    team_lead.save()

    outcome = flow.send_reminders(review=opened, actor=compliance_officer)

    assert outcome.sent == 0 and mail.outbox == []
    assert outcome.without_address == ["Tom Lead", "carol_compliance"]  # owner of Payments; the pool for Shared
    assert str(outcome) == "0 reminder e-mails sent, 2 without an address (Tom Lead, carol_compliance)."
    assert AccessReview.objects.get(pk=opened.pk).last_reminded_at is None


def test_reviewers_with_an_address_are_mailed_and_the_others_counted(opened, team_lead, compliance_officer):
    team_lead.email = "lead@example.com"
    team_lead.save()

    outcome = flow.send_reminders(review=opened, actor=compliance_officer)

    assert outcome.sent == 1 and [m.to for m in mail.outbox] == [["lead@example.com"]]
    assert outcome.without_address == ["carol_compliance"]
    assert AccessReview.objects.get(pk=opened.pk).last_reminded_at is not None


def test_a_reviewer_who_decided_everything_is_not_listed_as_unreachable(org, opened, team_lead, compliance_officer):
    for entry in opened.entries.filter(reviewer=team_lead, decision=""):
        flow.decide(entry=entry, user=team_lead, decision="keep", justification="still needed")

    assert flow.reviewers_without_address(opened) == ["carol_compliance"]  # decoy: Tom has nothing left


def test_the_review_page_marks_reviewers_without_an_address_and_the_button_reports_them(
    opened, team_lead, compliance_officer, client_for
):
    compliance_officer.email = "officer@example.com"
    compliance_officer.save()
    client = client_for(compliance_officer)

    page = client.get(reverse("reviews:detail", args=[opened.pk])).content.decode()
    response = client.post(reverse("reviews:remind", args=[opened.pk]), follow=True)

    assert "tom_lead (no e-mail address)" in page
    assert "carol_compliance (no e-mail address)" not in page  # decoy: she has one
    assert "1 reminder e-mail sent, 1 without an address (tom_lead)." in response.content.decode()
