"""Which findings are a vault's: the ones its health score counts (vaults/findings/health.py),
so the vault list's count, the vault page and the findings list filtered by the vault agree
with the points the vault lost.

1. Its own: the finding's `vault` is the vault.
2. A group's across vaults (a reused or duplicated secret) with one of the vault's items among
   its `related_items`. A group within one vault has that vault as its own.
3. A person's (over-permissioned access, access past an end date): no vault of its own, the
   vaults it is about listed in `details["vault_ids"]`.

Cases 2 and 3 name their vaults in `details["vault_ids"]`; the counts (vaults/findings/counts.py)
read them from there, the lists through the indexed memberships of case 2 and, for case 3, the
few hundred person findings of the account.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from vaults.findings.models import Finding
from vaults.models import Vault


def vault_ids(details: object) -> list[int]:
    """The vaults a finding's details name, in order, each once; none when malformed."""
    listed = details.get("vault_ids") if isinstance(details, dict) else None
    if not isinstance(listed, list):
        return []
    return sorted({v for v in listed if isinstance(v, int) and not isinstance(v, bool)})


def spanned_vaults(finding: Finding) -> list[int]:
    """The vaults a finding without a vault of its own counts in (cases 2 and 3); none for one with a vault."""
    return [] if finding.vault_id is not None else vault_ids(finding.details)


def person_findings_naming(vault: Vault) -> list[int]:
    """Ids of the vault-less findings about a person that name `vault` (case 3), any status."""
    about_people = Finding.objects.filter(account_id=vault.account_id, vault__isnull=True, op_user__isnull=False)
    return [pk for pk, details in about_people.values_list("pk", "details") if vault.pk in vault_ids(details)]


def ids_in_vault(vault: Vault) -> QuerySet[Any]:
    """The ids of the vault's findings, any status: a UNION in which each part uses an index (an
    OR across the membership join scanned every finding)."""
    own = Finding.objects.filter(vault=vault).order_by().values("pk")
    in_group = Finding.related_items.through.objects.filter(item__vault=vault).order_by().values("finding_id")
    named = Finding.objects.filter(pk__in=person_findings_naming(vault)).order_by().values("pk")
    return own.union(in_group, named)
