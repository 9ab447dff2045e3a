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

from compliance.reports.models import ReportArtifact
from compliance.reviews.models import AccessReview
from compliance.reviews.periods import period_containing
from compliance.reviews.review import open_review
from tests.security.planted import HOSTILE_TITLES
from vaults import sync
from vaults.cleanup.models import CleanupPlan
from vaults.cleanup.plans import PlanError, generate_plan
from vaults.fake_op import account as fake_account
from vaults.findings.engine import compute_findings
from vaults.models import Account, Item, OpUser, SyncRun, Vault

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
    }
    return by_route.get(route)
