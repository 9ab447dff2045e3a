"""The break-glass pages and the signed reason link (no sign-in)."""

from __future__ import annotations

import datetime
import time

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from compliance.models import AuditLogEntry
from tests.vaults import factories as f
from tests.vaults.breakglass.conftest import use
from vaults.breakglass import reasons, record
from vaults.breakglass.models import EmergencyUse
from vaults.cleanup.models import CleanupPlan, ProposedAction

pytestmark = pytest.mark.django_db
H = datetime.timedelta(hours=1)
HOSTILE = '<script>alert(1)</script> =HYPERLINK("http://evil.example") \u202etxt.exe'


@pytest.fixture
def event(account, root_login, dana, now) -> EmergencyUse:
    use(root_login, dana, now - 30 * H)
    [created] = record.record_uses(account=account)
    return created


def _link(event: EmergencyUse, who: str = "user") -> str:
    return reverse("breakglass:reason_link", args=[reasons.make_token(event, who=who, email="dana@example.com")])


def test_the_link_page_needs_no_sign_in_and_shows_only_metadata(event, root_login):
    response = Client().get(_link(event))

    html = response.content.decode()
    assert response.status_code == 200
    assert "AWS Production Root Login" in html and "Emergency Access" in html and "Dana Oncall" in html
    assert "Send the reason" in html
    assert root_login.secret_fields.get().fingerprint not in html


def test_a_reason_through_the_link_is_stored_once_audited_and_the_page_turns_read_only(event):
    client = Client()
    url = _link(event)

    first = client.post(url, {"reason": "INC-1042: production database locked, restored access"})
    second = client.post(url, {"reason": "something else"})

    assert first.status_code == 302 and second.status_code == 409
    event.refresh_from_db()
    assert event.reason == "INC-1042: production database locked, restored access"
    assert (event.reason_by, event.reason_by_label) == ("user", "dana@example.com")
    entry = AuditLogEntry.objects.get(action="breakglass.reason_given")
    assert entry.actor is None and entry.actor_label == "dana@example.com (signed link)"
    assert entry.target_id == str(event.pk) and "INC-1042" not in str(entry.details)
    page = client.get(url).content.decode()
    assert "the reason was recorded" in page and "Send the reason" not in page


def test_a_tampered_link_is_refused_with_a_clear_error(event):
    token = reasons.make_token(event, who="user", email="dana@example.com")
    other = EmergencyUse.objects.create(
        account=event.account, vault_op_id="v", item_op_id="i", user_op_id="u", first_used_at=event.first_used_at,
        last_used_at=event.first_used_at, rotation_due_at=event.rotation_due_at)
    _, _, rest = token.partition(":")
    forged = reasons.make_token(other, who="user", email="x@example.com").partition(":")[0] + ":" + rest

    for bad in (token[:-3] + "AAA", forged):
        response = Client().post(reverse("breakglass:reason_link", args=[bad]), {"reason": "x"})
        assert response.status_code == 400
        assert "This link is not valid" in response.content.decode()
    assert not EmergencyUse.objects.exclude(reason="").exists()


def test_an_expired_link_is_refused_and_says_so(event, settings):
    settings.BREAK_GLASS_LINK_DAYS = 7

    class EightDaysAgo(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(time.time()) - 8 * 86400)

    token = EightDaysAgo(salt=reasons.SALT).sign_object({"e": event.pk, "w": "user", "m": "d@example.com"}, compress=True)

    response = Client().post(reverse("breakglass:reason_link", args=[token]), {"reason": "late"})

    assert response.status_code == 400 and "This link has expired" in response.content.decode()
    event.refresh_from_db()
    assert event.reason == ""


def test_hostile_reason_text_is_escaped_and_isolated_on_both_pages(event, client_for, viewer):
    Client().post(_link(event), {"reason": HOSTILE})

    for html in (Client().get(_link(event)).content.decode(),
                 client_for(viewer).get(reverse("breakglass:detail", args=[event.pk])).content.decode(),
                 client_for(viewer).get(reverse("breakglass:list")).content.decode()):
        assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
        assert "\u202e" not in html  # the bidi override is shown as a visible token, never acting on the page


def test_many_posts_from_one_address_are_slowed_down(event, settings):
    client = Client(REMOTE_ADDR="203.0.113.77")
    url = reverse("breakglass:reason_link", args=["not-a-token"])

    codes = [client.post(url, {"reason": "x"}).status_code for _ in range(21)]

    assert codes[:20] == [400] * 20 and codes[20] == 429


def test_an_admin_records_a_reason_and_a_lead_outside_the_vault_may_not(event, client_for, admin_user, team_lead):
    outside = client_for(team_lead).post(reverse("breakglass:reason", args=[event.pk]), {"reason": "by the lead"})
    done = client_for(admin_user).post(reverse("breakglass:reason", args=[event.pk]), {"reason": "Change CHG-7"})

    assert outside.status_code == 403 and done.status_code == 302
    event.refresh_from_db()
    assert (event.reason, event.reason_by, event.reason_by_label) == ("Change CHG-7", "person", "ada_admin")
    assert AuditLogEntry.objects.filter(action="breakglass.reason_recorded", actor=admin_user).exists()


def test_the_vaults_lead_records_a_reason_for_their_own_vault(event, client_for, team_lead, emergency_vault):
    emergency_vault.owner = team_lead
    emergency_vault.save()

    client_for(team_lead).post(reverse("breakglass:reason", args=[event.pk]), {"reason": "Oncall restore"})

    event.refresh_from_db()
    assert event.reason == "Oncall restore"


def test_propose_rotation_lands_an_approval_gated_rotate_action_in_the_proposers_draft(event, client_for, team_lead,
                                                                                       emergency_vault, root_login):
    emergency_vault.owner = team_lead
    emergency_vault.save()

    response = client_for(team_lead).post(reverse("breakglass:rotate", args=[event.pk]))

    action = ProposedAction.objects.get()
    assert response.status_code == 302 and response["Location"].startswith(reverse("cleanup:plan", args=[action.plan_id]))
    assert (action.kind, action.item, action.status) == (ProposedAction.Kind.ROTATE_SECRET, root_login,
                                                         ProposedAction.Status.PROPOSED)
    assert action.plan.status == CleanupPlan.Status.DRAFT and action.plan.proposed_by == team_lead
    assert action.param("fingerprint_refs")  # the proof the next sync checks


def test_a_lead_outside_the_vault_cannot_propose_its_rotation(event, client_for, team_lead):
    response = client_for(team_lead).post(reverse("breakglass:rotate", args=[event.pk]))

    assert response.status_code == 403 and not ProposedAction.objects.exists()


def test_the_list_filters_by_state_and_refuses_an_unknown_filter(event, account, emergency_vault, dana, now, client_for, viewer):
    recent = f.make_item(vault=emergency_vault, title="Okta Production Super Admin Login")
    use(recent, dana, now - 2 * H)
    record.record_uses(account=account)
    client = client_for(viewer)

    missing = client.get(reverse("breakglass:list"), {"state": "reason-missing"}).content.decode()
    everything = client.get(reverse("breakglass:list")).content.decode()

    assert "AWS Production Root Login" in missing and "Okta Production Super Admin Login" not in missing
    assert "Okta Production Super Admin Login" in everything and "Reason missing; rotation late" in everything
    assert client.get(reverse("breakglass:list"), {"state": "nonsense"}).status_code == 400
