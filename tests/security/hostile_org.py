"""A synced fake organisation whose data is hostile: script tags, attribute break-outs, Excel
formulas, right-to-left overrides and 10 kB titles in item titles, tags, field labels, vault
names and people's names; then a review, a cleanup plan and a report artifact built on top, so
every page has something hostile to render."""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone

from compliance.alerts.models import AlertDelivery
from compliance.reports.models import ReportArtifact
from compliance.reviews.models import AccessReview
from compliance.reviews.periods import period_containing
from compliance.reviews.review import open_review
from compliance.tickets.models import TicketDestination, TicketLink
from tests.security.planted import HOSTILE_TITLES
from vaults import sync
from vaults.breakglass.models import EmergencyUse
from vaults.cleanup.models import CleanupPlan
from vaults.cleanup.plans import PlanError, generate_plan
from vaults.fake_op import account as fake_account
from vaults.findings.engine import compute_findings
from vaults.models import Account, Item, OpUser, SyncRun, Vault
from vaults.offboarding.models import OffboardingCase

HOSTILE_VAULT = '"><svg onload=alert("vault")> Production'
HOSTILE_PERSON = "<script>alert('person')</script> Mallory"
# Substrings that would only be in the HTML if hostile text were rendered unescaped.
RAW_MARKERS = ["<script>alert", "<img src=x onerror", "<svg onload", "onerror=alert(1)>"]


@dataclass
class HostileOrg:
    account: Account
    run: SyncRun
    review: AccessReview | None
    plan: CleanupPlan | None
    artifact: ReportArtifact

    def hostile_items(self) -> list[Item]:
        return list(Item.objects.filter(vault__account=self.account, title__in=HOSTILE_TITLES))


def make_data_hostile(path: Path) -> None:
    data = fake_account.load(path)
    items = [i for i in data["items"] if i.get("state", "ACTIVE") == "ACTIVE"]
    for item, title in zip(items, HOSTILE_TITLES, strict=False):
        item["title"] = title
        item["tags"] = [*item.get("tags", []), title[:80]]
        for field in item.get("fields", []):
            if field.get("type") == "CONCEALED":
                field["label"] = title[:200]
                break
        item["version"] = int(item.get("version", 1)) + 1
    vault = data["vaults"][1]
    vault["name"], vault["description"] = HOSTILE_VAULT, HOSTILE_TITLES[1]
    vault["content_version"] = int(vault.get("content_version", 1)) + 1
    for user in data["users"]:
        if user.get("type") != "SERVICE_ACCOUNT":
            user["name"] = HOSTILE_PERSON
            break
    fake_account.save(path, data)


def sync_account(account: Account) -> SyncRun:
    """What the sync task and its follow-up do, in this process: sync, then compute findings."""
    started, _ = sync.start_sync(account=account)
    run = sync.run_sync(sync_run_id=started.pk)
    if run.status == SyncRun.Status.SUCCEEDED:
        compute_findings(account=account, sync_run=run)
    return run


def build(fake_org: object, *, admin: User) -> HostileOrg:
    """Plant the hostile data, sync it through the real fake `op`, and add a review, a cleanup
    plan and a report artifact (with a file) on top."""
    make_data_hostile(fake_org.path)  # type: ignore[attr-defined]
    account = fake_org.add_account()  # type: ignore[attr-defined]
    run = sync_account(account)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert Item.objects.filter(title=HOSTILE_TITLES[0]).exists()
    assert account.findings.filter(item__title__in=HOSTILE_TITLES).exists()
    assert Vault.objects.filter(name=HOSTILE_VAULT).exists() and OpUser.objects.filter(name=HOSTILE_PERSON).exists()
    review = open_review(account=account, period=period_containing(timezone.now()), opened_by=admin, title=HOSTILE_TITLES[0])
    try:
        plan, _ = generate_plan(account=account, proposed_by=admin)
    except PlanError:
        plan = None
    body = b"PK hostile artifact"
    root = Path(settings.MEDIA_ROOT)
    (root / "reports").mkdir(parents=True, exist_ok=True)
    (root / "reports" / "hostile.xlsx").write_bytes(body)
    artifact = ReportArtifact.objects.create(
        kind="soc2", period="2026Q1", format="xlsx", status=ReportArtifact.Status.DONE, file_path="reports/hostile.xlsx",
        sha256=hashlib.sha256(body).hexdigest(), size=len(body), generator_label=HOSTILE_TITLES[2],
        finished_at=timezone.now() - datetime.timedelta(minutes=1), parameters={"note": HOSTILE_TITLES[0]},
    )  # fmt: skip
    # Tickets (issue 16): a destination named with markup, and a ticket whose key is hostile text.
    destination = TicketDestination.objects.create(name=HOSTILE_TITLES[1], kind="jira", url="https://tracker.invalid",
                                                   project="SEC", summary_template=HOSTILE_TITLES[0])  # fmt: skip
    hostile_finding = account.findings.filter(item__title__in=HOSTILE_TITLES).first()
    if hostile_finding is not None:
        TicketLink.objects.create(subject_kind="finding", subject_id=hostile_finding.pk, destination=destination,
                                  external_key=HOSTILE_TITLES[0], url="https://tracker.invalid/browse/SEC-1", response_status=201)  # fmt: skip
    return HostileOrg(account=account, run=run, review=review, plan=plan, artifact=artifact)


def pks_for(route: str, org: HostileOrg) -> list[int] | None:
    """Objects worth rendering for a route with a pk, hostile ones first; None if unknown."""
    account = org.account
    hostile_items = [i.pk for i in org.hostile_items()]
    by_route: dict[str, list[int]] = {
        "vaults:detail": list(Vault.objects.filter(account=account).order_by("-name").values_list("pk", flat=True)[:3]),
        "vaults:settings": list(Vault.objects.filter(account=account, name=HOSTILE_VAULT).values_list("pk", flat=True)),
        "vaults:item": hostile_items,
        "vaults:person": list(OpUser.objects.filter(account=account).order_by("-name").values_list("pk", flat=True)[:3]),
        "findings:detail": list(
            account.findings.filter(item_id__in=hostile_items).values_list("pk", flat=True)[:6]
        ) + list(account.findings.filter(kind="duplicate").values_list("pk", flat=True)[:2]),
        "cleanup:plan": [org.plan.pk] if org.plan else [],
        "cleanup:dry_run": [org.plan.pk] if org.plan else [],
        # Proposals from the item and vault pages (issue 19): hostile titles and names in the forms.
        **{f"cleanup:propose_{change}": hostile_items for change in ("metadata", "rename", "move", "archive")},
        "cleanup:propose_revoke": list(
            Vault.objects.filter(account=account, name=HOSTILE_VAULT).values_list("pk", flat=True)
        ),
        "cleanup:plan_progress": [org.plan.pk] if org.plan else [],
        "reviews:detail": [org.review.pk] if org.review else [],
        # Downloads of a signed-off review's evidence (the hostile review stays open: 404); hostile
        # text in them is tested in tests/compliance/reviews/test_review_evidence.py.
        "reviews:evidence_pdf": [],
        "reviews:evidence_xlsx": [],
        "reports:artifact": [org.artifact.pk],
        "reports:download": [org.artifact.pk],
        "sync:sync_now": [account.pk],
        "tickets:destination": list(TicketDestination.objects.values_list("pk", flat=True)[:3]),
        # Break-glass (issue 16): an event naming the hostile item, vault and person, with a hostile reason.
        "breakglass:detail": [hostile_emergency_use(org).pk],
        "breakglass:reason_link": [],  # a signed token, not a pk: tests/vaults/breakglass/test_views.py
        # Leavers (issue 16): a case for the hostile person who used the hostile items.
        "offboarding:detail": [hostile_offboarding_case(org).pk],
        # Alerts (issue 16): a channel and a rule named with markup, and an alert about the hostile vault.
        **{f"alerts:channel_{action}": [hostile_alert(org).channel.pk] for action in ("edit", "delete", "test")},
        **{f"alerts:rule_{action}": [hostile_alert(org).state.rule_id] for action in ("edit", "delete")},
    }
    return by_route.get(route)


def hostile_alert(org: HostileOrg) -> AlertDelivery:
    """A webhook channel and a health rule named with hostile text, and one alert (with its
    delivery) about the hostile vault, so /alerts/ renders them (created once)."""
    from compliance.alerts.models import AlertChannel, AlertRule, AlertState

    found = AlertDelivery.objects.filter(channel__name=HOSTILE_TITLES[0]).select_related("channel", "state__rule").first()
    if found is not None:
        return found
    now = timezone.now()
    vault = Vault.objects.get(account=org.account, name=HOSTILE_VAULT)
    channel = AlertChannel.objects.create(name=HOSTILE_TITLES[0], kind="webhook", url="https://hooks.invalid/x?token=t",
                                          secret_env="ALERT_HOOK_KEY")  # fmt: skip
    rule = AlertRule.objects.create(name=HOSTILE_TITLES[1], kind="health_below", threshold=101, vault=vault,
                                    account=org.account, created_at=now)  # fmt: skip
    rule.channels.set([channel])
    state = AlertState.objects.create(rule=rule, account=org.account, key=f"health:{vault.pk}", kind="health_below",
                                      title=f"vault “{vault.name}” health score 40/100", url=f"/vaults/{vault.pk}/",
                                      severity="high", vault_id=vault.pk, details={"vault": vault.name},
                                      raised_at=now, last_seen_at=now)  # fmt: skip
    return AlertDelivery.objects.create(state=state, channel=channel, created_at=now, status="failed", attempts=1,
                                        last_error=HOSTILE_TITLES[2][:500])  # fmt: skip


def hostile_offboarding_case(org: HostileOrg) -> OffboardingCase:
    """An open offboarding case named with hostile text, whose plan lists the hostile items (created once)."""
    from vaults.models import ItemUsage
    from vaults.offboarding.cases import open_case

    person = OpUser.objects.filter(account=org.account).exclude(user_type="SERVICE_ACCOUNT").order_by("name").first()
    assert person is not None
    found = OffboardingCase.objects.filter(op_user=person, status=OffboardingCase.Status.OPEN).first()
    if found is not None:
        return found
    now = timezone.now()
    for n, item in enumerate(org.hostile_items()):
        ItemUsage.objects.get_or_create(
            account=org.account, uuid=f"hostile-offboarding-{n}",
            defaults={"timestamp": now - datetime.timedelta(days=1), "user_op_id": person.op_id, "item_op_id": item.op_id,
                      "vault_op_id": item.vault.op_id, "action": "reveal", "user_name": HOSTILE_PERSON},
        )
    case = open_case(person, leave_date=now.date(), reason=OffboardingCase.Reason.MARKED_LEAVING)
    OffboardingCase.objects.filter(pk=case.pk).update(name=HOSTILE_PERSON, email=HOSTILE_TITLES[0][:200])
    case.refresh_from_db()
    return case


def hostile_emergency_use(org: HostileOrg) -> EmergencyUse:
    """One break-glass event made of the organisation's hostile texts (created once)."""
    found = EmergencyUse.objects.filter(account=org.account, user_op_id="hostile-user").first()
    if found is not None:
        return found
    item = org.hostile_items()[0]
    now = timezone.now()
    event = EmergencyUse.objects.create(
        account=org.account, user_op_id="hostile-user", item_op_id=item.op_id, item=item, vault=item.vault,
        vault_op_id=item.vault.op_id, vault_name=HOSTILE_VAULT, item_title=item.title, user_name=HOSTILE_PERSON,
        user_email="mallory@example.com", first_used_at=now - datetime.timedelta(days=2),
        last_used_at=now - datetime.timedelta(days=2), reason=HOSTILE_TITLES[0], reason_by=EmergencyUse.ReasonBy.USER,
        reason_by_label=HOSTILE_PERSON, reason_at=now, rotation_due_at=now - datetime.timedelta(days=1),
    )
    return event
