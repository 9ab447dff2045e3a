"""What a person does on the offboarding and break-glass pages is audit-logged with their client
address, as on every other page; the same domain call without a request (the sync, a command)
records no address."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from compliance.models import AuditLogEntry
from tests.vaults import factories as f
from tests.vaults.offboarding.world import build_world
from vaults.breakglass.models import EmergencyUse
from vaults.models import OpUser, Vault
from vaults.offboarding import cases
from vaults.offboarding.models import OffboardingCase

pytestmark = pytest.mark.django_db
CLIENT_ADDRESS = "198.51.100.23"


def _client(user) -> Client:
    client = Client(REMOTE_ADDR=CLIENT_ADDRESS)
    client.force_login(user)
    return client


def test_marking_a_leaver_and_cancelling_the_case_record_the_client_address(admin_user) -> None:
    w = build_world()
    client = _client(admin_user)

    client.post(f"/offboarding/people/{w.lena.pk}/leaving/", {"leave_date": w.now.date().isoformat()})
    case = OffboardingCase.objects.get(op_user=w.lena)
    client.post(f"/offboarding/{case.pk}/cancel/", {"note": "She stays: the contract was extended."})

    opened = AuditLogEntry.objects.get(action="offboarding.case_opened")
    cancelled = AuditLogEntry.objects.get(action="offboarding.case_cancelled")
    assert (opened.actor, opened.ip_address) == (admin_user, CLIENT_ADDRESS)
    assert (cancelled.actor, cancelled.ip_address) == (admin_user, CLIENT_ADDRESS)


def test_a_refused_cancel_records_the_client_address(admin_user) -> None:
    w = build_world()
    case = cases.open_case(w.lena, leave_date=w.now.date(), reason=OffboardingCase.Reason.MARKED_LEAVING)
    OpUser.objects.filter(pk=w.lena.pk).update(state="SUSPENDED")

    _client(admin_user).post(f"/offboarding/{case.pk}/cancel/", {"note": "stays"})

    refused = AuditLogEntry.objects.get(action="offboarding.cancel_refused")
    assert refused.ip_address == CLIENT_ADDRESS


def test_a_case_opened_without_a_request_records_no_address(admin_user) -> None:
    w = build_world()  # decoy: the domain call of a command or the sync

    cases.mark_leaving(op_user=w.lena, leave_date=w.now.date(), user=admin_user)

    assert AuditLogEntry.objects.get(action="offboarding.case_opened").ip_address is None


def test_a_break_glass_reason_recorded_on_the_page_records_the_client_address(admin_user) -> None:
    account = f.make_account(name="acme")
    vault = f.make_vault(account=account, name="Emergency Access", classification=Vault.Classification.EMERGENCY)
    now = timezone.now()
    event = EmergencyUse.objects.create(account=account, vault=vault, vault_op_id=vault.op_id, item_op_id="i1",
                                        user_op_id="u1", first_used_at=now, last_used_at=now, rotation_due_at=now)  # fmt: skip

    _client(admin_user).post(reverse("breakglass:reason", args=[event.pk]), {"reason": "INC-7: restore"})

    entry = AuditLogEntry.objects.get(action="breakglass.reason_recorded")
    assert (entry.actor, entry.ip_address) == (admin_user, CLIENT_ADDRESS)
