"""Rows planted directly (no sync) for API, export and hostile-content tests: one of everything
the API lists, with titles chosen by the caller."""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone

from compliance.reports.models import ReportArtifact
from compliance.reviews.models import AccessReview, AccessReviewEntry
from openclaw_web import tokens
from tests.vaults import factories
from vaults.findings.models import SEVERITY_RANK, Finding, HealthSnapshot
from vaults.models import Account, Item, SecretField, SyncRun, Vault

HOSTILE_TITLES = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    '=HYPERLINK("http://x","y")',
    "Invoice \u202egpj.exe Production Key",  # right-to-left override
    "A" * 10_000,
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3",
    "\tTabbed <b>bold</b>",
    "'); DROP TABLE vaults_item; --",
    "{{ 7*7 }} {% now 'Y' %}",
    "javascript:alert(document.domain)",
]


@dataclass
class Planted:
    account: Account
    vault: Vault
    items: list[Item] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    snapshots: list[HealthSnapshot] = field(default_factory=list)
    runs: list[SyncRun] = field(default_factory=list)
    review: AccessReview | None = None
    entries: list[AccessReviewEntry] = field(default_factory=list)
    artifact: ReportArtifact | None = None


def plant(*, titles: list[str], opened_by: User, vault_name: str = "Payments Production", artifact_bytes: bytes = b"PK fake workbook") -> Planted:
    """An account with one vault holding one item per title (each with a secret field and a
    weak-secret finding), three health snapshots, two sync runs, a review with one entry per
    item, and a finished report artifact whose file exists under MEDIA_ROOT."""
    now = timezone.now()
    account = factories.make_account()
    vault = factories.make_vault(account=account, name=vault_name, classification=Vault.Classification.PRODUCTION)
    planted = Planted(account=account, vault=vault)
    op_user = factories.make_op_user(account=account, name=titles[0][:200])
    for title in titles:
        item = factories.make_item(vault=vault, title=title, tags=[title[:100]])
        factories.make_secret(item=item, label=title[:200], zxcvbn_score=1, length=6, strength="WEAK")
        planted.items.append(item)
        planted.findings.append(
            Finding.objects.create(
                account=account, kind=Finding.Kind.WEAK, severity=Finding.Severity.HIGH,
                severity_rank=SEVERITY_RANK[Finding.Severity.HIGH], vault=vault, item=item, key=f"item:{item.pk}",
                title=f"Weak secret: {title}", explanation=f"{title} has a guessable password.",
                search_text=title.lower(), first_seen=now, last_seen=now, details={"title": title},
            )
        )  # fmt: skip
    for days in (2, 1, 0):
        planted.snapshots.append(HealthSnapshot.objects.create(
            account=account, taken_at=now - datetime.timedelta(days=days), score=70 + days, items=len(titles),
            counts={"weak": len(titles)}, penalties={"weak": 15.0},
        ))  # fmt: skip
    planted.snapshots.append(HealthSnapshot.objects.create(account=account, vault=vault, taken_at=now, score=60, items=len(titles)))
    planted.runs = [factories.make_sync_run(account=account, error=titles[-1][:500]) for _ in range(2)]
    review = AccessReview.objects.create(
        account=account, title=f"Review of {titles[0][:200]}", period="2026Q1",
        period_start=now - datetime.timedelta(days=90), period_end=now, opened_by=opened_by, opened_at=now,
    )  # fmt: skip
    planted.review = review
    for title in titles:
        planted.entries.append(AccessReviewEntry.objects.create(
            review=review, op_user=op_user, vault=vault, user_label=title[:500], vault_name=vault.name,
            permissions=["view_items"], justification=title,
        ))  # fmt: skip
    root = Path(settings.MEDIA_ROOT)
    (root / "reports").mkdir(parents=True, exist_ok=True)
    artifact = ReportArtifact.objects.create(
        kind="soc2", period="2026Q1", format="xlsx", status=ReportArtifact.Status.DONE,
        file_path="reports/planted.xlsx", sha256=hashlib.sha256(artifact_bytes).hexdigest(), size=len(artifact_bytes),
        generator_label=titles[0][:300], finished_at=now,
    )  # fmt: skip
    (root / artifact.file_path).write_bytes(artifact_bytes)
    planted.artifact = artifact
    return planted


def bearer_for(user: User, name: str = "tests") -> dict[str, str]:
    _, clear = tokens.create_token(user=user, name=name)
    return {"Authorization": f"Bearer {clear}"}


def api_list_urls(planted: Planted) -> list[str]:
    """One URL per API endpoint, filled with the planted rows' ids."""
    item, finding = planted.items[0], planted.findings[0]
    assert planted.review is not None and planted.artifact is not None
    return [
        "/api/v1/accounts", f"/api/v1/accounts/{planted.account.pk}",
        "/api/v1/sync-runs", f"/api/v1/sync-runs/{planted.runs[0].pk}",
        "/api/v1/vaults", f"/api/v1/vaults/{planted.vault.pk}",
        "/api/v1/items", f"/api/v1/items/{item.pk}",
        "/api/v1/findings", "/api/v1/findings?status=all", f"/api/v1/findings/{finding.pk}",
        "/api/v1/health", "/api/v1/health/history", f"/api/v1/health/history?vault={planted.vault.pk}",
        "/api/v1/reviews", f"/api/v1/reviews/{planted.review.pk}", f"/api/v1/reviews/{planted.review.pk}/entries",
        "/api/v1/reports", f"/api/v1/reports/{planted.artifact.pk}",
        "/api/v1/usage", "/api/v1/usage?counts=true",
        "/api/v1/search?q=production", "/api/v1/search?q=script+alert", "/api/v1/items?q=stripe+production",
    ]  # fmt: skip


__all__ = ["HOSTILE_TITLES", "Item", "Planted", "SecretField", "api_list_urls", "bearer_for", "plant"]
