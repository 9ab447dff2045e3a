"""Findings as plain dictionaries: the `findings` command's JSON, and the API's shape."""

from __future__ import annotations

from typing import Any

from vaults.findings.models import Finding
from vaults.models import Account


def finding_as_dict(finding: Finding) -> dict[str, Any]:
    """The public shape of a finding. Never holds a secret value (findings never do)."""
    return {
        "id": finding.pk,
        "account": finding.account.name,
        "kind": finding.kind,
        "severity": finding.severity,
        "status": finding.status,
        "vault": finding.vault.name if finding.vault else None,
        "vaults": finding.details.get("vaults", [finding.vault.name] if finding.vault else []),
        "item_id": finding.item.op_id if finding.item else None,
        "item_title": finding.item.title if finding.item else None,
        "items": [{"id": i["op_id"], "title": i["title"], "vault": i["vault"]} for i in finding.details.get("items", [])],
        "user": finding.op_user.email if finding.op_user else None,
        "title": finding.title,
        "explanation": finding.explanation,
        "recommended_action": finding.recommended_action,
        "first_seen": finding.first_seen.isoformat(),
        "last_seen": finding.last_seen_at.isoformat(),
    }


def open_findings_as_dicts(*, account: Account | None = None, kind: str = "") -> list[dict[str, Any]]:
    findings = Finding.objects.filter(status=Finding.Status.OPEN).select_related("account", "vault", "item", "op_user")
    if account is not None:
        findings = findings.filter(account=account)
    if kind:
        findings = findings.filter(kind=kind)
    return [finding_as_dict(f) for f in findings.order_by("account__name", "-severity_rank", "kind", "title", "pk").iterator(chunk_size=2000)]
