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
account's person findings (242 at 100,000 items and 1,000 people: bench/bench_findings.py).
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import QuerySet

from vaults.findings.models import Finding
from vaults.models import Vault


def vault_ids(details: object) -> list[int]:
    """The vaults a finding's details name, each once, in id order; none when malformed."""
    return listed_vault_ids(details.get("vault_ids") if isinstance(details, dict) else None)


def listed_vault_ids(listed: object) -> list[int]:
    """`vault_ids` of the list alone, read as `details__vault_ids` without decoding the rest."""
    if not isinstance(listed, list):
        return []
    return sorted({v for v in listed if isinstance(v, int) and not isinstance(v, bool)})


def spanned_vaults(finding: Finding) -> list[int]:
    """The vaults a finding without a vault of its own counts in (cases 2 and 3); none for one with a vault."""
    return [] if finding.vault_id is not None else vault_ids(finding.details)


def person_findings_naming(vault: Vault, within: QuerySet[Finding] | None = None) -> list[int]:
    """Ids of the vault-less findings about a person that name `vault` (case 3), of `within`
    (default: any status). Read first, as ids: inside the pages' UNION the same condition made
    PostgreSQL's plan twice as slow. The partial index on `op_user` finds the account's person
    findings; on PostgreSQL a jsonb containment keeps those naming the vault, elsewhere (the
    SQLite demo, no JSON containment) their vault lists are read."""
    about_people = (Finding.objects.all() if within is None else within).filter(
        account_id=vault.account_id, vault__isnull=True, op_user__isnull=False
    ).order_by()
    if connection.vendor == "postgresql":
        return list(about_people.filter(details__vault_ids__contains=[vault.pk]).values_list("pk", flat=True))
    listed = about_people.values_list("pk", "details__vault_ids")
    return [pk for pk, ids in listed if vault.pk in listed_vault_ids(ids)]


def ids_in_vault(vault: Vault, within: QuerySet[Finding]) -> QuerySet[Any]:
    """The ids of the vault's findings among `within` (a list's other filters): a UNION in which
    each part uses an index (an OR across the membership join scanned every finding)."""
    own = within.filter(vault=vault).order_by().values("pk")
    in_group = Finding.related_items.through.objects.filter(item__vault=vault).order_by().values("finding_id")
    named = Finding.objects.filter(pk__in=person_findings_naming(vault, within)).order_by().values("pk")
    return own.union(in_group, named)
