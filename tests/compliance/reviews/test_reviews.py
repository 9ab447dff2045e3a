"""Access reviews: freezing, routing, flags, decisions, lock after sign-off, revocations, reminders."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from compliance.models import AuditLogEntry
from compliance.reviews import review as flow
from compliance.reviews.models import AccessReview, AccessReviewEntry
from tests.compliance.reviews.conftest import entry_for
from tests.vaults import factories as f
from vaults.cleanup.models import CleanupPlan, ProposedAction
from vaults.models import VaultGrant

pytestmark = pytest.mark.django_db


def decide_all(review, user, decision="keep"):
    for entry in review.entries.all():
        flow.decide(entry=entry, user=user, decision=decision, justification="Needed for on-call duties.")


# --- opening and freezing -------------------------------------------------------------------------


def test_opening_a_review_freezes_every_user_vault_access_with_its_usage_in_the_period(org, opened):
    pairs = {(e.user_label, e.vault_name) for e in opened.entries.all()}
    assert pairs == {("Alice Able", "Payments Production"), ("Bob Broad", "Payments Production"),
                     ("Carol Crew", "Payments Production"), ("Alice Able", "Shared Corporate")}
    alice = entry_for(opened, org.alice, org.payments)
    assert alice.permissions == ["edit_items", "view_items"]
    assert alice.via_direct and alice.via_groups == []
    assert (alice.usage_count, alice.items_used) == (2, 1)
    assert alice.last_used_at is not None and org.period.contains(alice.last_used_at)
    carol = entry_for(opened, org.carol, org.payments)
    assert not carol.via_direct and carol.via_groups == ["Engineering"]
    assert carol.usage_count == 0  # her only use was before the period


def test_later_grant_changes_do_not_alter_the_frozen_snapshot(org, opened):
    before = list(opened.entries.order_by("pk").values_list("user_label", "vault_name", "permissions", "usage_count"))
    VaultGrant.objects.filter(vault=org.payments, user=org.alice).update(permissions=["manage_vault"])
    VaultGrant.objects.filter(vault=org.payments, user=org.bob).delete()
    newcomer = f.make_op_user(account=org.account, name="Newcomer")
    f.grant(vault=org.payments, user=newcomer)
    f.make_usage(account=org.account, user=org.carol, item=org.payments.items.first(), when=org.period.start)

    after = list(opened.entries.order_by("pk").values_list("user_label", "vault_name", "permissions", "usage_count"))

    assert after == before


def test_a_review_scoped_to_a_classification_holds_only_those_vaults(org, compliance_officer):
    review = flow.open_review(account=org.account, period=org.period, opened_by=compliance_officer,
                              classifications=["production"])

    assert set(review.entries.values_list("vault_name", flat=True)) == {"Payments Production"}
    assert review.scope_label == "Production vaults"


def test_entries_are_routed_to_the_vault_owner_else_to_the_compliance_officers(org, opened, team_lead):
    assert set(opened.entries.filter(vault=org.payments).values_list("reviewer", flat=True)) == {team_lead.pk}
    assert set(opened.entries.filter(vault=org.shared).values_list("reviewer", flat=True)) == {None}
    labels = {p.label: (p.total, p.decided) for p in flow.progress(opened)}
    assert labels == {"tom_lead": (3, 0), flow.COMPLIANCE_POOL: (1, 0)}


def test_unused_access_and_over_permissioned_users_are_pre_flagged(org, opened):
    bob = entry_for(opened, org.bob, org.payments)
    carol = entry_for(opened, org.carol, org.payments)
    alice = entry_for(opened, org.alice, org.payments)

    assert bob.flag_unused and bob.flag_over_permissioned
    assert any("manage_vault" in reason for reason in bob.flag_reasons)
    assert carol.flag_unused and not carol.flag_over_permissioned
    assert not alice.is_flagged


def test_opening_a_review_is_audit_logged(opened):
    entry = AuditLogEntry.objects.get(action="review.opened")
    assert entry.details["entries"] == 4 and entry.actor_label == "carol_compliance"


# --- deciding -----------------------------------------------------------------------------------


def test_the_owner_decides_an_entry_with_a_justification(org, opened, team_lead):
    entry = entry_for(opened, org.bob, org.payments)

    decided = flow.decide(entry=entry, user=team_lead, decision="revoke", justification="Left the payments team.")

    assert (decided.decision, decided.decided_by) == ("revoke", team_lead)
    assert AuditLogEntry.objects.filter(action="review.decided", target_id=str(entry.pk)).exists()


def test_a_decision_without_justification_is_refused(org, opened, team_lead):
    with pytest.raises(flow.ReviewError, match="justification"):
        flow.decide(entry=entry_for(opened, org.bob, org.payments), user=team_lead, decision="keep", justification="  ")


def test_a_change_must_keep_some_rights_and_remove_others(org, opened, team_lead):
    entry = entry_for(opened, org.alice, org.payments)
    with pytest.raises(flow.ReviewError, match="remove at least one"):
        flow.decide(entry=entry, user=team_lead, decision="change", justification="x",
                    keep_permissions=["view_items", "edit_items"])

    decided = flow.decide(entry=entry, user=team_lead, decision="change", justification="Read-only is enough.",
                          keep_permissions=["view_items"])

    assert decided.revoked_permissions == ["edit_items"]


def test_a_team_lead_cannot_decide_an_entry_routed_to_someone_else(org, opened, team_lead):
    with pytest.raises(flow.NotYourEntry):
        flow.decide(entry=entry_for(opened, org.alice, org.shared), user=team_lead, decision="keep", justification="x")


def test_a_compliance_officer_can_decide_any_entry(org, opened, compliance_officer):
    entry = flow.decide(entry=entry_for(opened, org.alice, org.payments), user=compliance_officer, decision="keep",
                        justification="Confirmed with the owner by phone.")
    assert entry.decision == "keep"


# --- sign-off and lock -----------------------------------------------------------------------------


def test_sign_off_needs_every_entry_decided(opened, compliance_officer):
    with pytest.raises(flow.ReviewError, match="undecided"):
        flow.sign_off(review=opened, user=compliance_officer)


def test_decisions_after_sign_off_are_refused_by_the_domain_function(org, opened, compliance_officer):
    decide_all(opened, compliance_officer)
    flow.sign_off(review=opened, user=compliance_officer, note="Q review done")
    entry = entry_for(opened, org.alice, org.payments)

    with pytest.raises(flow.ReviewLocked):
        flow.decide(entry=entry, user=compliance_officer, decision="revoke", justification="too late")

    entry.refresh_from_db()
    assert entry.decision == "keep"
    assert AccessReview.objects.get(pk=opened.pk).status == AccessReview.Status.SIGNED_OFF


def test_decisions_after_sign_off_are_refused_by_the_view(org, opened, compliance_officer, team_lead, client_for):
    decide_all(opened, compliance_officer)
    flow.sign_off(review=opened, user=compliance_officer)
    entry = entry_for(opened, org.bob, org.payments)

    response = client_for(team_lead).post(reverse("reviews:decide", args=[entry.pk]),
                                          {"decision": "revoke", "justification": "late"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 409
    entry.refresh_from_db()
    assert entry.decision == "keep"


def test_a_locked_review_page_offers_no_decision_form(org, opened, compliance_officer, client_for):
    decide_all(opened, compliance_officer)
    flow.sign_off(review=opened, user=compliance_officer)

    page = client_for(compliance_officer).get(reverse("reviews:detail", args=[opened.pk])).content.decode()

    assert "Save decision" not in page and "Locked" in page


def test_a_second_approver_is_required_when_the_review_says_so_and_must_be_another_person(
        org, compliance_officer, approver, team_lead):
    review = flow.open_review(account=org.account, period=org.period, opened_by=compliance_officer,
                              require_second_approver=True)
    decide_all(review, compliance_officer, decision="revoke")
    review = flow.sign_off(review=review, user=compliance_officer)
    assert review.status == AccessReview.Status.AWAITING_SECOND and review.is_locked
    assert not CleanupPlan.objects.exists()  # nothing is proposed before the final sign-off

    with pytest.raises(flow.ReviewError, match="different person"):
        flow.approve_second(review=review, user=compliance_officer)
    with pytest.raises(flow.ReviewError):
        flow.approve_second(review=review, user=team_lead)
    review = flow.approve_second(review=review, user=approver)

    assert review.status == AccessReview.Status.SIGNED_OFF and review.second_approver == approver
    assert review.cleanup_plan is not None


# --- revocations become cleanup actions ------------------------------------------------------------


def test_revoke_decisions_become_cleanup_actions_behind_the_approval_gate(org, opened, compliance_officer, team_lead):
    decide_all(opened, compliance_officer)
    flow.decide(entry=entry_for(opened, org.bob, org.payments), user=team_lead, decision="revoke",
                justification="Bob left the payments team.")
    flow.decide(entry=entry_for(opened, org.alice, org.payments), user=team_lead, decision="change",
                justification="Read-only is enough.", keep_permissions=["view_items"])

    flow.sign_off(review=opened, user=compliance_officer)

    opened.refresh_from_db()
    plan = opened.cleanup_plan
    assert plan is not None and plan.status == CleanupPlan.Status.PROPOSED and plan.proposed_by == compliance_officer
    actions = {(a.op_user_id, a.kind, a.status, tuple(a.params["permissions"])) for a in plan.actions.all()}
    assert actions == {
        (org.bob.pk, ProposedAction.Kind.REVOKE_USER, ProposedAction.Status.PROPOSED, ("manage_vault", "view_items")),
        (org.alice.pk, ProposedAction.Kind.REVOKE_USER, ProposedAction.Status.PROPOSED, ("edit_items",)),
    }
    assert entry_for(opened, org.bob, org.payments).cleanup_action.status == ProposedAction.Status.PROPOSED
    assert AuditLogEntry.objects.filter(action="review.revocations_proposed").exists()


def test_the_proposer_of_the_revocations_cannot_approve_them(org, opened, compliance_officer, approver):
    from vaults.cleanup import approval

    decide_all(opened, compliance_officer, decision="revoke")
    flow.sign_off(review=opened, user=compliance_officer)
    action = ProposedAction.objects.filter(op_user=org.bob).get()

    assert approval.refusal(action, compliance_officer) != ""
    assert approval.refusal(action, approver) == ""


def test_access_only_through_a_group_gets_a_remediation_note_instead_of_an_action(org, opened, compliance_officer):
    decide_all(opened, compliance_officer)
    carol = entry_for(opened, org.carol, org.payments)
    flow.decide(entry=carol, user=compliance_officer, decision="revoke", justification="Not in payments any more.")

    flow.sign_off(review=opened, user=compliance_officer)

    carol.refresh_from_db()
    assert carol.cleanup_action is None
    assert "Engineering" in carol.remediation
    assert not ProposedAction.objects.filter(op_user=org.carol).exists()


# --- reminders ------------------------------------------------------------------------------------


def test_reminders_email_each_reviewer_with_undecided_entries_and_are_audit_logged(
        org, opened, team_lead, compliance_officer):
    team_lead.email, compliance_officer.email = "lead@example.com", "officer@example.com"
    team_lead.save()
    compliance_officer.save()
    flow.decide(entry=entry_for(opened, org.alice, org.payments), user=team_lead, decision="keep", justification="ok")

    sent = flow.send_reminders(review=opened, actor=compliance_officer).sent

    assert sent == 2
    by_recipient = {m.to[0]: m for m in mail.outbox}
    assert set(by_recipient) == {"lead@example.com", "officer@example.com"}
    assert "2 access decisions waiting" in by_recipient["lead@example.com"].subject
    assert "1 access decision waiting" in by_recipient["officer@example.com"].subject
    assert reverse("reviews:detail", args=[opened.pk]) in by_recipient["lead@example.com"].body
    assert AuditLogEntry.objects.filter(action="review.reminders_sent").count() == 1


def test_the_reminder_command_reminds_every_open_review(org, opened, team_lead):
    team_lead.email = "lead@example.com"
    team_lead.save()

    call_command("send_review_reminders")

    assert [m.to for m in mail.outbox] == [["lead@example.com"]]


def test_the_remind_button_needs_the_manage_reviews_capability(opened, team_lead, compliance_officer, client_for):
    assert client_for(team_lead).post(reverse("reviews:remind", args=[opened.pk])).status_code == 403
    assert client_for(compliance_officer).post(reverse("reviews:remind", args=[opened.pk])).status_code == 302


# --- pages -----------------------------------------------------------------------------------------


def test_a_compliance_officer_opens_a_review_from_the_list_page(org, compliance_officer, client_for):
    client = client_for(compliance_officer)

    response = client.post(reverse("reviews:open"), {"account": org.account.pk, "period": org.period.label})

    review = AccessReview.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("reviews:detail", args=[review.pk])
    assert review.entries.count() == 4


def test_an_invalid_period_is_refused_with_a_clear_error(org, compliance_officer, client_for):
    response = client_for(compliance_officer).post(reverse("reviews:open"), {"account": org.account.pk, "period": "Q1"})

    assert response.status_code == 400 and "YYYYQn" in response.content.decode()
    assert not AccessReview.objects.exists()


def test_deciding_inline_with_htmx_returns_the_updated_row(org, opened, team_lead, client_for):
    entry = entry_for(opened, org.bob, org.payments)

    response = client_for(team_lead).post(reverse("reviews:decide", args=[entry.pk]),
                                          {"decision": "revoke", "justification": "Left the team"}, HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert response.status_code == 200 and f'id="entry-{entry.pk}"' in body and "Left the team" in body
    assert "<html" not in body


def test_the_detail_page_filters_by_reviewer_decision_and_flag(org, opened, team_lead, client_for):
    client = client_for(team_lead)
    flagged = client.get(reverse("reviews:detail", args=[opened.pk]), {"flagged": "over"}, HTTP_HX_REQUEST="true")
    mine = client.get(reverse("reviews:detail", args=[opened.pk]), {"reviewer": "mine", "state": "undecided"})

    assert "Bob Broad" in flagged.content.decode() and "Alice Able" not in flagged.content.decode()
    assert mine.status_code == 200 and "Shared Corporate</td>" not in mine.content.decode()
    assert "<progress" in mine.content.decode()
    assert client.get(reverse("reviews:detail", args=[opened.pk]), {"reviewer": "x;drop"}).status_code == 400


def test_the_detail_page_runs_a_bounded_number_of_queries(org, opened, team_lead, client_for, django_assert_max_num_queries):
    for n in range(30):
        user = f.make_op_user(account=org.account, name=f"Extra {n}")
        f.grant(vault=org.payments, user=user)
    review = flow.open_review(account=org.account, period=org.period, opened_by=team_lead)
    client = client_for(team_lead)

    with django_assert_max_num_queries(20):
        response = client.get(reverse("reviews:detail", args=[review.pk]))

    # An error page would also run few queries: the capped page must list the 30 extra people.
    assert response.status_code == 200
    assert all(f"Extra {n}<" in response.content.decode() for n in (0, 29))


def test_a_viewer_cannot_see_reviews_and_an_auditor_cannot_decide(org, opened, viewer, auditor, client_for):
    entry = entry_for(opened, org.bob, org.payments)
    assert client_for(viewer).get(reverse("reviews:detail", args=[opened.pk])).status_code == 403
    assert client_for(auditor).get(reverse("reviews:detail", args=[opened.pk])).status_code == 200
    response = client_for(auditor).post(reverse("reviews:decide", args=[entry.pk]), {"decision": "keep", "justification": "x"})
    assert response.status_code == 403
    assert AccessReviewEntry.objects.get(pk=entry.pk).decision == ""
