from __future__ import annotations

from typing import Literal

from django.db import models
from django.db.models import Q

UserStateClass = Literal["active", "pending", "inactive"]

# op's user states, as `op user list` prints them. A person in a *pending* state is between two
# settled states (account recovery, an account transfer under way) and may come back without an
# administrator acting; an *inactive* one cannot sign in. DELETED is kept for op versions and
# account files that print it.
ACTIVE_USER_STATES: frozenset[str] = frozenset({"ACTIVE"})
PENDING_USER_STATES: frozenset[str] = frozenset({"RECOVERY_STARTED", "RECOVERY_ACCEPTED", "TRANSFER_STARTED"})
INACTIVE_USER_STATES: frozenset[str] = frozenset({"SUSPENDED", "TRANSFER_SUSPENDED", "DELETED"})
KNOWN_USER_STATES: frozenset[str] = ACTIVE_USER_STATES | PENDING_USER_STATES | INACTIVE_USER_STATES

USER_STATE_LABELS: dict[str, str] = {
    "ACTIVE": "Active",
    "RECOVERY_STARTED": "Account recovery started",
    "RECOVERY_ACCEPTED": "Account recovery accepted",
    "TRANSFER_STARTED": "Account transfer started",
    "TRANSFER_SUSPENDED": "Suspended during account transfer",
    "SUSPENDED": "Suspended",
    "DELETED": "Deleted",
}


def classify_user_state(state: str | None) -> UserStateClass:
    """active / pending / inactive for a state as op printed it.

    No state at all (an op that did not print one) is active, as before states were read. A
    state this code does not know (op added one) is *inactive*: a review then looks at the
    person instead of trusting them; the sync logs it (`unknown_user_states`).
    """
    value = (state or "").strip().upper()
    if not value or value in ACTIVE_USER_STATES:
        return "active"
    if value in PENDING_USER_STATES:
        return "pending"
    return "inactive"


def unknown_user_states(states: list[str]) -> list[str]:
    """The distinct states op printed that this code does not know, sorted (for one warning)."""
    return sorted({s.strip().upper() for s in states if s.strip() and s.strip().upper() not in KNOWN_USER_STATES})


def user_state_label(state: str | None) -> str:
    """A person-readable label; an unknown state is shown verbatim and said to be unknown."""
    value = (state or "").strip().upper()
    if not value:
        return ""
    return USER_STATE_LABELS.get(value, f"{value.replace('_', ' ').capitalize()} (state unknown to OpenClaw)")


SERVICE_ACCOUNT = "SERVICE_ACCOUNT"


def is_service_account(user_type: str | None) -> bool:
    """The one test for "this 1Password user is a service account": op has printed the type in
    more than one case across versions, and rows written before parsing upper-cased it remain."""
    return (user_type or "").upper() == SERVICE_ACCOUNT


def service_accounts(path: str = "") -> Q:
    """`is_service_account` as a filter; `path` leads to the user (e.g. "op_user__")."""
    return Q(**{f"{path}user_type__iexact": SERVICE_ACCOUNT})


class OpUser(models.Model):
    """A person (or service account) in the 1Password account."""

    account = models.ForeignKey("vaults.Account", on_delete=models.CASCADE, related_name="op_users")
    op_id = models.CharField(max_length=64)
    name = models.CharField(max_length=500, blank=True)
    email = models.CharField(max_length=500, blank=True)
    user_type = models.CharField(max_length=40, blank=True)  # MEMBER, GUEST, SERVICE_ACCOUNT
    # Verbatim from op (ACTIVE, RECOVERY_STARTED, TRANSFER_SUSPENDED, ...): see classify_user_state.
    state = models.CharField(max_length=100, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "email"]
        constraints = [models.UniqueConstraint(fields=["account", "op_id"], name="opuser_unique_op_id")]

    def __str__(self) -> str:
        return self.name or self.email or self.op_id

    @property
    def state_class(self) -> UserStateClass:
        """active / pending / inactive (see `classify_user_state`); removed users are inactive."""
        return "inactive" if self.removed_at is not None else classify_user_state(self.state)

    @property
    def state_label(self) -> str:
        return user_state_label(self.state)

    @property
    def is_service_account(self) -> bool:
        return is_service_account(self.user_type)


class OpGroup(models.Model):
    account = models.ForeignKey("vaults.Account", on_delete=models.CASCADE, related_name="op_groups")
    op_id = models.CharField(max_length=64)
    name = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    state = models.CharField(max_length=40, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["account", "op_id"], name="opgroup_unique_op_id")]

    def __str__(self) -> str:
        return self.name


class GroupMembership(models.Model):
    group = models.ForeignKey(OpGroup, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(OpUser, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=40, blank=True)  # MEMBER or MANAGER

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="membership_unique")]


class VaultGrant(models.Model):
    """One direct grant on a vault, to a user or to a group (exactly one of the two)."""

    vault = models.ForeignKey("vaults.Vault", on_delete=models.CASCADE, related_name="grants")
    user = models.ForeignKey(OpUser, null=True, blank=True, on_delete=models.CASCADE, related_name="grants")
    group = models.ForeignKey(OpGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="grants")
    permissions = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False, group__isnull=True) | Q(user__isnull=True, group__isnull=False)),
                name="grant_user_xor_group",
            ),
            models.UniqueConstraint(fields=["vault", "user"], condition=Q(user__isnull=False), name="grant_unique_user"),
            models.UniqueConstraint(fields=["vault", "group"], condition=Q(group__isnull=False), name="grant_unique_group"),
        ]
