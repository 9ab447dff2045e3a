"""Reviews built for volume: bulk decisions, delegation, nobody reviewing their own access, the
previous review's decision beside each entry, the inbox, row errors, grouping, the second approver
for production scopes, and the page size at 1,000 entries."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import override_settings
from django.urls import reverse

from compliance.models import AuditLogEntry
from compliance.reviews import delegation, history, inbox
from compliance.reviews import review as flow
from compliance.reviews.models import AccessReview, AccessReviewEntry
from openclaw_web.roles import Role
from tests.compliance.reviews.conftest import entry_for
from tests.compliance.reviews.volume import build_review
from tests.vaults import factories as f
from vaults.models import Vault

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def decide_all(review, user, decision="keep"):
    for entry in review.entries.all():
        flow.decide(entry=entry, user=user, decision=decision, justification="Needed for on-call duties.")


# --- bulk decisions --------------------------------------------------------------------------------


def test_bulk_keep_decides_every_chosen_entry_with_one_justification_and_one_audit_row(org, opened, compliance_officer):
    chosen = opened.entries.filter(vault=org.payments)

    outcome = flow.decide_many(review=opened, entries=chosen, user=compliance_officer, decision="keep",
                               justification="Payments team confirmed.")

    assert len(outcome.changed) == 3
    assert set(chosen.values_list("decision", "justification", "decided_by")) == {
        ("keep", "Payments team confirmed.", compliance_officer.pk)}
    assert entry_for(opened, org.alice, org.shared).decision == ""  # not chosen
    row = AuditLogEntry.objects.get(action="review.decided_bulk")
    assert sorted(row.details["entries"]) == sorted(chosen.values_list("pk", flat=True))


def test_bulk_decisions_skip_entries_routed_to_someone_else_and_refuse_a_locked_review(
        org, opened, team_lead, compliance_officer):
    outcome = flow.decide_many(review=opened, entries=opened.entries.all(), user=team_lead, decision="revoke",
                               justification="Team reshuffle.")

    assert len(outcome.changed) == 3 and sum(outcome.skipped.values()) == 1  # Shared Corporate is the pool's
    assert entry_for(opened, org.alice, org.shared).decision == ""
    flow.decide(entry=entry_for(opened, org.alice, org.shared), user=compliance_officer, decision="keep",
                justification="Office logins.")
    flow.sign_off(review=opened, user=compliance_officer)
    with pytest.raises(flow.ReviewLocked):
        flow.decide_many(review=opened, entries=opened.entries.all(), user=compliance_officer, decision="keep",
                         justification="too late")


def test_bulk_needs_a_justification_and_single_rows_can_be_overridden_afterwards(org, opened, team_lead):
    with pytest.raises(flow.ReviewError, match="justification"):
        flow.decide_many(review=opened, entries=opened.entries.all(), user=team_lead, decision="keep", justification=" ")
    flow.decide_many(review=opened, entries=opened.entries.filter(vault=org.payments), user=team_lead,
                     decision="keep", justification="All fine.")

    bob = flow.decide(entry=entry_for(opened, org.bob, org.payments), user=team_lead, decision="revoke",
                      justification="Bob left.")

    assert bob.decision == "revoke"
    assert entry_for(opened, org.alice, org.payments).decision == "keep"


def test_the_bulk_view_decides_every_entry_matching_the_filter_and_nothing_else(org, opened, team_lead, client_for):
    response = client_for(team_lead).post(
        reverse("reviews:bulk", args=[opened.pk]),
        {"action": "keep", "all_matching": "1", "justification": "Used every week.", "flagged": "none",
         "reviewer": "mine"}, **HX)  # fmt: skip

    assert response.status_code == 200 and "Decided" in response.content.decode()
    assert entry_for(opened, org.alice, org.payments).decision == "keep"  # the one unflagged entry of mine
    assert entry_for(opened, org.bob, org.payments).decision == ""  # flagged: outside the filter
    assert entry_for(opened, org.carol, org.payments).decision == ""  # flagged (unused)
    assert 'id="review-progress" hx-swap-oob="true"' in response.content.decode()


def test_the_bulk_view_decides_only_the_ticked_entries(org, opened, team_lead, client_for):
    bob, carol = entry_for(opened, org.bob, org.payments), entry_for(opened, org.carol, org.payments)

    response = client_for(team_lead).post(reverse("reviews:bulk", args=[opened.pk]),
                                          {"action": "revoke", "entries": [bob.pk], "justification": "Moved on."})

    assert response.status_code == 302
    bob.refresh_from_db()
    carol.refresh_from_db()
    assert bob.decision == "revoke" and carol.decision == ""


def test_the_bulk_view_shows_a_missing_justification_as_a_422(org, opened, team_lead, client_for):
    response = client_for(team_lead).post(reverse("reviews:bulk", args=[opened.pk]),
                                          {"action": "revoke", "all_matching": "1", "justification": ""}, **HX)

    assert response.status_code == 422 and "justification is required" in response.content.decode()
    assert not opened.entries.exclude(decision="").exists()


# --- delegation ------------------------------------------------------------------------------------


def test_a_reviewer_delegates_their_own_entries_and_it_is_audit_logged(org, opened, team_lead, make_user):
    other_lead = make_user("lea_lead", Role.TEAM_LEAD)
    bob = opened.entries.filter(pk=entry_for(opened, org.bob, org.payments).pk)

    delegation.reassign(review=opened, entries=bob, user=team_lead, to_user=other_lead)

    assert bob.get().reviewer == other_lead
    row = AuditLogEntry.objects.get(action="review.reassigned")
    assert row.details["entries"] == [bob.get().pk] and row.details["previous_reviewers"] == {str(bob.get().pk): team_lead.pk}
    assert flow.can_decide(other_lead, bob.get()) and not flow.can_decide(team_lead, bob.get())


def test_a_reviewer_cannot_hand_on_someone_elses_entries_but_a_compliance_officer_can(
        org, opened, team_lead, compliance_officer, make_user):
    other_lead = make_user("lea_lead", Role.TEAM_LEAD)
    pool = opened.entries.filter(vault=org.shared)

    with pytest.raises(flow.ReviewError, match="Nothing was reassigned"):
        delegation.reassign(review=opened, entries=pool, user=team_lead, to_user=other_lead)
    delegation.reassign(review=opened, entries=pool, user=compliance_officer, to_user=other_lead)

    assert set(pool.values_list("reviewer", flat=True)) == {other_lead.pk}


def test_delegating_to_the_person_whose_access_it_is_is_refused(org, opened, team_lead, make_user):
    alice_person = make_user("alice_lead", Role.TEAM_LEAD)
    alice_person.email = org.alice.email.upper()  # the same address, written differently
    alice_person.save()
    alice = opened.entries.filter(pk=entry_for(opened, org.alice, org.payments).pk)

    with pytest.raises(flow.ReviewError, match="their own access"):
        delegation.reassign(review=opened, entries=alice, user=team_lead, to_user=alice_person)
    assert alice.get().reviewer == team_lead


def test_delegating_to_someone_who_cannot_decide_reviews_is_refused(org, opened, team_lead, auditor):
    with pytest.raises(flow.ReviewError, match="does not decide"):
        delegation.reassign(review=opened, entries=opened.entries.filter(vault=org.payments), user=team_lead,
                            to_user=auditor)


def test_the_bulk_view_delegates_ticked_entries(org, opened, team_lead, make_user, client_for):
    other_lead = make_user("lea_lead", Role.TEAM_LEAD)
    bob = entry_for(opened, org.bob, org.payments)

    client_for(team_lead).post(reverse("reviews:bulk", args=[opened.pk]),
                               {"action": "delegate", "entries": [bob.pk], "to_user": other_lead.pk}, **HX)

    bob.refresh_from_db()
    assert bob.reviewer == other_lead
    assert entry_for(opened, org.alice, org.payments).reviewer == team_lead


# --- nobody reviews their own access ---------------------------------------------------------------


def test_an_owner_reviewing_their_own_access_is_routed_to_another_compliance_officer(
        org, team_lead, compliance_officer, make_user):
    team_lead.email = org.alice.email
    team_lead.save()
    other_officer = make_user("oscar_officer", Role.COMPLIANCE_OFFICER)
    compliance_officer.email = "carol@example.com"
    compliance_officer.save()

    review = flow.open_review(account=org.account, period=org.period, opened_by=compliance_officer)

    assert entry_for(review, org.alice, org.payments).reviewer in (compliance_officer, other_officer)
    assert entry_for(review, org.alice, org.payments).reviewer != team_lead
    assert entry_for(review, org.bob, org.payments).reviewer == team_lead  # someone else's access stays
    assert not flow.can_decide(team_lead, entry_for(review, org.alice, org.payments))


def test_same_name_with_another_address_and_a_person_without_address_are_not_the_subject(
        org, team_lead, compliance_officer):
    team_lead.first_name, team_lead.last_name, team_lead.email = "Alice", "Able", "alice.other@example.com"
    team_lead.save()
    review = flow.open_review(account=org.account, period=org.period, opened_by=compliance_officer)
    assert entry_for(review, org.alice, org.payments).reviewer == team_lead  # same name, different person

    team_lead.email = ""
    team_lead.save()
    nameless = f.make_op_user(account=org.account, name="No Address", email=" ")
    f.grant(vault=org.payments, user=nameless)
    review = flow.open_review(account=org.account, period=org.period, opened_by=compliance_officer)
    assert entry_for(review, nameless, org.payments).reviewer == team_lead
    assert flow.can_decide(team_lead, entry_for(review, nameless, org.payments))


def test_with_no_other_officer_the_entry_goes_to_the_pool_and_its_subject_still_cannot_decide_it(
        org, compliance_officer):
    compliance_officer.email = org.alice.email
    compliance_officer.save()
    org.payments.owner = compliance_officer
    org.payments.save()

    review = flow.open_review(account=org.account, period=org.period, opened_by=compliance_officer)
    mine = entry_for(review, org.alice, org.payments)

    assert mine.reviewer is None
    assert not flow.can_decide(compliance_officer, mine)
    with pytest.raises(flow.NotYourEntry, match="own access"):
        flow.decide(entry=mine, user=compliance_officer, decision="keep", justification="I need it.")
    outcome = flow.decide_many(review=review, entries=review.entries.all(), user=compliance_officer,
                               decision="keep", justification="Fine.")
    assert mine.pk not in outcome.changed and flow.OWN_ACCESS in outcome.skipped
    mine.refresh_from_db()
    assert mine.decision == ""


def test_a_manager_cannot_decide_their_own_access_even_in_the_pool(org, opened, admin_user):
    admin_user.email = org.alice.email
    admin_user.save()

    assert not flow.can_decide(admin_user, entry_for(opened, org.alice, org.shared))
    assert flow.can_decide(admin_user, entry_for(opened, org.bob, org.payments))


# --- previous review -------------------------------------------------------------------------------


def test_the_previous_signed_off_reviews_decision_and_reason_are_shown_beside_the_entry(
        org, compliance_officer, team_lead, client_for):
    earlier = flow.open_review(account=org.account, period=org.period, opened_by=compliance_officer)
    decide_all(earlier, compliance_officer)
    flow.decide(entry=entry_for(earlier, org.bob, org.payments), user=compliance_officer, decision="revoke",
                justification="Bob needs only read access.")
    flow.sign_off(review=earlier, user=compliance_officer)
    still_open = flow.open_review(account=org.account, period=org.period, opened_by=compliance_officer)
    flow.decide(entry=entry_for(still_open, org.carol, org.payments), user=compliance_officer, decision="revoke",
                justification="Draft decision in an unsigned review.")
    current = flow.open_review(account=org.account, period=org.period, opened_by=compliance_officer)

    previous = history.previous_decisions(current, current.entries.all())

    bob, carol = entry_for(current, org.bob, org.payments), entry_for(current, org.carol, org.payments)
    assert previous[bob.pk].decision == "revoke" and previous[bob.pk].justification == "Bob needs only read access."
    assert previous[carol.pk].justification == "Needed for on-call duties."  # the signed-off one, not the draft
    alice_shared = entry_for(current, org.alice, org.shared)
    assert previous[alice_shared.pk].review_id == earlier.pk
    page = client_for(team_lead).get(reverse("reviews:detail", args=[current.pk])).content.decode()
    assert "Bob needs only read access." in page
    assert "Draft decision in an unsigned review." not in page


def test_a_first_review_shows_no_previous_decision(org, opened):
    assert history.previous_decisions(opened, opened.entries.all()) == {}


# --- inbox -----------------------------------------------------------------------------------------


def test_the_inbox_counts_my_undecided_entries_per_open_review(org, opened, team_lead, compliance_officer, client_for):
    flow.decide(entry=entry_for(opened, org.alice, org.payments), user=team_lead, decision="keep", justification="ok")
    signed = flow.open_review(account=org.account, period=org.period, opened_by=compliance_officer)
    decide_all(signed, compliance_officer)
    flow.sign_off(review=signed, user=compliance_officer)

    rows = inbox.open_decisions(team_lead)

    assert [(r.review.pk, r.mine, r.pool, r.flagged) for r in rows] == [(opened.pk, 2, 0, 2)]
    officer_rows = inbox.open_decisions(compliance_officer)
    assert [(r.review.pk, r.mine, r.pool) for r in officer_rows] == [(opened.pk, 0, 1)]
    page = client_for(team_lead).get(reverse("reviews:inbox"))
    assert page.status_code == 200
    assert f'data-inbox-review="{opened.pk}"' in page.content.decode()
    assert f'data-inbox-review="{signed.pk}"' not in page.content.decode()
    assert "My open decisions (2)" in client_for(team_lead).get(reverse("reviews:list")).content.decode()


def test_the_inbox_leaves_out_my_own_access(org, opened, compliance_officer):
    compliance_officer.email = org.alice.email
    compliance_officer.save()

    assert [(r.mine, r.pool) for r in inbox.open_decisions(compliance_officer)] == []  # the pool holds only Alice


# --- rows: errors, routine keeps, grouping ---------------------------------------------------------


def test_a_change_with_no_permission_ticked_shows_the_error_on_the_row_as_422(org, opened, team_lead, client_for):
    alice = entry_for(opened, org.alice, org.payments)

    response = client_for(team_lead).post(reverse("reviews:decide", args=[alice.pk]),
                                          {"decision": "change", "justification": "Read is enough."}, **HX)

    body = response.content.decode()
    assert response.status_code == 422
    assert f'id="entry-{alice.pk}"' in body and "Keep at least one permission" in body and 'role="alert"' in body
    assert "Read is enough." in body  # the typed reason is not lost
    alice.refresh_from_db()
    assert alice.decision == ""


def test_keeping_an_unflagged_entry_needs_no_note_but_a_flagged_one_does(org, opened, team_lead, client_for):
    alice, bob = entry_for(opened, org.alice, org.payments), entry_for(opened, org.bob, org.payments)
    client = client_for(team_lead)

    ok = client.post(reverse("reviews:decide", args=[alice.pk]), {"decision": "keep"}, **HX)
    refused = client.post(reverse("reviews:decide", args=[bob.pk]), {"decision": "keep"}, **HX)

    alice.refresh_from_db()
    bob.refresh_from_db()
    assert ok.status_code == 200 and alice.decision == "keep" and alice.justification == flow.ROUTINE_KEEP
    assert 'hx-swap-oob="true"' in ok.content.decode() and "1 / 4" in ok.content.decode()  # progress updates
    assert refused.status_code == 422 and bob.decision == ""


def test_rows_group_by_person_with_flagged_groups_first(org, opened, team_lead, client_for):
    body = client_for(team_lead).get(reverse("reviews:detail", args=[opened.pk]), {"group": "person"}, **HX).content.decode()

    # Bob (over-permissioned) leads although "Alice" sorts first; Alice and Carol (unused somewhere)
    # follow by name; each person is one group header.
    assert body.index("Bob Broad") < body.index("Alice Able") < body.index("Carol Crew")
    assert body.count('class="review-group"') == 3
    by_vault = client_for(team_lead).get(reverse("reviews:detail", args=[opened.pk]), **HX).content.decode()
    assert by_vault.count('class="review-group"') == 2


# --- second approver -------------------------------------------------------------------------------


def test_a_review_covering_production_vaults_requires_a_second_approver_by_default(org, compliance_officer, client_for):
    client = client_for(compliance_officer)
    client.post(reverse("reviews:open"), {"account": org.account.pk, "period": org.period.label})
    client.post(reverse("reviews:open"), {"account": org.account.pk, "period": org.period.label,
                                          "classifications": ["shared"]})
    client.post(reverse("reviews:open"), {"account": org.account.pk, "period": org.period.label,
                                          "classifications": ["shared"], "require_second_approver": "on"})

    assert list(AccessReview.objects.order_by("pk").values_list("require_second_approver", flat=True)) == [
        True, False, True]


@override_settings(REVIEW_SECOND_APPROVER_FOR_PRODUCTION=False)
def test_the_production_default_can_be_switched_off_by_setting(org, compliance_officer, client_for):
    client_for(compliance_officer).post(reverse("reviews:open"), {"account": org.account.pk, "period": org.period.label})

    assert AccessReview.objects.get().require_second_approver is False


def test_a_removed_production_vault_does_not_count_as_production_scope(org, compliance_officer):
    from django.utils import timezone

    Vault.objects.filter(pk=org.payments.pk).update(removed_at=timezone.now())

    assert not flow.covers_production(org.account, [], [])


# --- volume ----------------------------------------------------------------------------------------


def test_a_thousand_entry_review_page_stays_under_one_megabyte_with_bounded_queries(
        compliance_officer, client_for, django_assert_max_num_queries):
    review = build_review(opened_by=compliance_officer, reviewer=compliance_officer, n=1000)
    client = client_for(compliance_officer)

    with django_assert_max_num_queries(25):
        response = client.get(reverse("reviews:detail", args=[review.pk]))

    body = response.content
    assert response.status_code == 200 and len(body) < 1_000_000, len(body)
    assert b"All 1,000 entries matching this filter" in body
    assert body.count(b'data-entry-select') == 100  # one page
    first = body.index(b"Person 0000")  # flagged (unused) entries lead
    assert body.find(b"Person 0001") == -1 or first < body.find(b"Person 0001")


def test_deciding_all_matching_entries_of_a_thousand_entry_review_takes_one_request(compliance_officer, client_for):
    review = build_review(opened_by=compliance_officer, reviewer=compliance_officer, n=1000)
    client = client_for(compliance_officer)

    client.post(reverse("reviews:bulk", args=[review.pk]),
                {"action": "keep", "all_matching": "1", "flagged": "none", "justification": "Still needed."}, **HX)

    assert review.entries.filter(decision="keep").count() == 900
    assert review.entries.filter(decision="").count() == 100
    assert not review.entries.filter(decision="keep", flag_unused=True).exists()


def test_only_deciders_see_the_inbox_and_the_bulk_route(opened, auditor, approver, client_for):
    assert client_for(auditor).get(reverse("reviews:inbox")).status_code == 403
    assert client_for(approver).post(reverse("reviews:bulk", args=[opened.pk]),
                                     {"action": "keep", "all_matching": "1", "justification": "x"}).status_code == 403
    assert not AccessReviewEntry.objects.exclude(decision="").exists()
    assert Group.objects.filter(name=Role.AUDITOR.value).exists()
