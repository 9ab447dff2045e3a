from __future__ import annotations

from django.db import models
from django.db.models import Q


class OpUser(models.Model):
    """A person (or service account) in the 1Password account."""

    account = models.ForeignKey("vaults.Account", on_delete=models.CASCADE, related_name="op_users")
    op_id = models.CharField(max_length=64)
    name = models.CharField(max_length=500, blank=True)
    email = models.CharField(max_length=500, blank=True)
    user_type = models.CharField(max_length=40, blank=True)  # MEMBER, GUEST, SERVICE_ACCOUNT
    state = models.CharField(max_length=40, blank=True)  # ACTIVE, SUSPENDED, DELETED, ...
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "email"]
        constraints = [models.UniqueConstraint(fields=["account", "op_id"], name="opuser_unique_op_id")]

    def __str__(self) -> str:
        return self.name or self.email or self.op_id


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
