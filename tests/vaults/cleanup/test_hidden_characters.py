"""Issue #14 item 4 on the cleanup pages: what the approver reads is what op would run.

1. A title holding U+202E is rendered isolated in `<bdi>`, with the character shown as a visible
   `U+202E` token and a "⚠ hidden characters" badge, on the approval page.
2. Proposing a rename *to* such a title is refused with a form error; nothing is stored.
3. Proposing a URL holding credentials is refused the same way.
Decoys: Arabic, Hebrew and emoji titles are accepted and render without the badge."""

from __future__ import annotations

import pytest
from django.urls import reverse

from compliance.models import AuditLogEntry
from vaults.cleanup import plans
from vaults.cleanup.models import ProposedAction
from vaults.models import Vault

from ..factories import make_account, make_item, make_vault
from .conftest import draft_plan

Kind = ProposedAction.Kind
RLO = "\u202e"
SPOOFED = f"Invoice {RLO}gpj.exe Production Key"
BADGE = "⚠ hidden characters: U+202E"


@pytest.fixture
def vault(db, team_lead) -> Vault:
    # Team leads edit plans only on vaults they own (vaults/cleanup/scope.py).
    return make_vault(
        account=make_account(name="Acme"), name="Shared Finance", classification=Vault.Classification.SHARED,
        owner=team_lead,
    )  # fmt: skip


def _rename(item, title: str) -> plans.ActionSpec:
    return plans.ActionSpec(Kind.RENAME_ITEM, item.vault, item=item, params={"title": title})


def test_the_approval_page_isolates_a_title_with_a_bidi_override_and_shows_the_hidden_character(
    vault, team_lead, approver, client_for
):
    spoofed = make_item(vault=vault, title=SPOOFED)
    hebrew = make_item(vault=vault, title="מפתח API 🚀")
    plan = draft_plan(
        account=vault.account,
        proposer=team_lead,
        specs=[_rename(spoofed, "Invoice Production Key"), _rename(hebrew, "Hebrew API Key Production")],
    )
    plans.submit_plan(plan=plan, user=team_lead)

    page = client_for(approver).get(reverse("cleanup:plan", args=[plan.pk])).content.decode()

    assert RLO not in page  # the override never acts on the page...
    assert '<bdi dir="ltr">Invoice <span class="hidden-char">U+202E</span>gpj.exe Production Key' in page  # ...shown
    assert BADGE in page
    # The decoy: the Hebrew title with an emoji is isolated too, and carries no badge.
    hebrew_row = page.split(f'id="action-{plan.actions.get(item=hebrew).pk}"')[1].split("</tr>")[0]
    assert '<bdi dir="ltr">מפתח API 🚀 (Shared Finance)</bdi>' in hebrew_row
    assert "hidden characters" not in hebrew_row
    assert page.count("hidden-chars-badge") == 2  # target and effect of the spoofed row only


def test_proposing_a_rename_to_a_title_with_a_bidi_override_is_refused_with_a_form_error(vault, team_lead, client_for):
    item = make_item(vault=vault, title="Password")
    plan = draft_plan(account=vault.account, proposer=team_lead, specs=[_rename(item, "Finance Shared Login")])
    action = plan.actions.get()
    edit_url = reverse("cleanup:action_edit", args=[action.pk])
    client = client_for(team_lead)

    refused = client.post(edit_url, {"title": SPOOFED}, follow=True)

    assert refused.status_code == 200
    # The form's own error (the command builder would say "refusing to run op" instead).
    assert "The title contains hidden or right-to-left control characters (U+202E)" in refused.content.decode()
    assert "they make the text read differently" in refused.content.decode()
    action.refresh_from_db()
    assert action.params["title"] == "Finance Shared Login"
    assert not AuditLogEntry.objects.filter(action="cleanup.action.edited").exists()

    # The decoys: an Arabic title, then an emoji title, go through and show without a badge.
    for title in ("مفتاح الإنتاج Finance", "Finance 🚀 Deploy Key"):
        accepted = client.post(edit_url, {"title": title}, follow=True)
        action.refresh_from_db()
        assert action.params["title"] == title
        assert f'<bdi dir="ltr">“Password” is renamed to “{title}”.</bdi>' in accepted.content.decode()
        assert "hidden-chars-badge" not in accepted.content.decode()
    assert AuditLogEntry.objects.filter(action="cleanup.action.edited", actor=team_lead).count() == 2


def test_tags_with_a_zero_width_space_are_refused_with_a_form_error(vault, team_lead, client_for):
    item = make_item(vault=vault, title="Finance Shared Login", tags=[])
    plan = draft_plan(
        account=vault.account, proposer=team_lead,
        specs=[plans.ActionSpec(Kind.SET_TAGS, vault, item=item, params={"tags": ["finance"]})],
    )  # fmt: skip
    action = plan.actions.get()

    refused = client_for(team_lead).post(
        reverse("cleanup:action_edit", args=[action.pk]), {"tags": "finance, pro\u200bd"}, follow=True
    )

    assert "(U+200B)" in refused.content.decode()
    action.refresh_from_db()
    assert action.params["tags"] == ["finance"]


def test_proposing_a_url_with_credentials_is_refused_and_a_plain_url_is_accepted(vault, team_lead, client_for):
    item = make_item(vault=vault, title="Finance Shared Login", category="LOGIN")
    plan = draft_plan(
        account=vault.account, proposer=team_lead,
        specs=[plans.ActionSpec(Kind.SET_URL, vault, item=item, params={"url": "https://finance.example.com/"})],
    )  # fmt: skip
    action = plan.actions.get()
    edit_url = reverse("cleanup:action_edit", args=[action.pk])
    client = client_for(team_lead)

    for leaky in ("https://admin:CANARY-pw@finance.example.com/", "https://finance.example.com/?token=CANARY-tok"):
        refused = client.post(edit_url, {"url": leaky}, follow=True)
        assert "user name, password or secret-looking parameter" in refused.content.decode()
        assert "CANARY" not in refused.content.decode()
        action.refresh_from_db()
        assert action.params["url"] == "https://finance.example.com/"
    assert not AuditLogEntry.objects.filter(action="cleanup.action.edited").exists()

    client.post(edit_url, {"url": "https://finance.example.com/login?ref=docs"})
    action.refresh_from_db()
    assert action.params["url"] == "https://finance.example.com/login?ref=docs"


def test_a_plan_whose_rename_holds_a_bidi_override_cannot_be_submitted(vault, team_lead):
    """An action built outside the form (e.g. a suggested title copied from a spoofed item) still
    never reaches an approver: the command builder refuses it when the plan is submitted."""
    item = make_item(vault=vault, title="Password")
    plan = draft_plan(account=vault.account, proposer=team_lead, specs=[_rename(item, SPOOFED)])

    with pytest.raises(plans.PlanError, match="U\\+202E"):
        plans.submit_plan(plan=plan, user=team_lead)


def test_item_pages_isolate_titles_and_mark_only_those_with_hidden_characters(vault, viewer, client_for):
    spoofed = make_item(vault=vault, title=SPOOFED)
    arabic = make_item(vault=vault, title="مفتاح الإنتاج 🚀")
    client = client_for(viewer)

    spoofed_page = client.get(reverse("vaults:item", args=[spoofed.pk])).content.decode()
    arabic_page = client.get(reverse("vaults:item", args=[arabic.pk])).content.decode()
    vault_page = client.get(reverse("vaults:detail", args=[vault.pk])).content.decode()

    assert RLO not in spoofed_page and RLO not in vault_page
    assert BADGE in spoofed_page and BADGE in vault_page
    assert "<bdi>مفتاح الإنتاج 🚀</bdi>" in arabic_page  # its own direction, isolated...
    assert "hidden-chars-badge" not in arabic_page  # ...and nothing to warn about
