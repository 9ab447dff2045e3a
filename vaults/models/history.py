"""What was true when: one row per span of time during which a user, group, membership, grant,
vault or item looked one way (see vaults/history.py, which writes and reads them).

A span is open from `valid_from` (inclusive) until `valid_to` (exclusive; None while it is still
true). A span is written only when something changed, so an unchanged organisation adds nothing.
Rows name things by op id, never by foreign key to a synced row: a report for a closed period must
still read the same figures after those rows change or disappear.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Span(models.Model):
    account = models.ForeignKey("vaults.Account", on_delete=models.CASCADE, related_name="+")
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        indexes = [
            # "Open at moment T": account = ? AND valid_from <= T AND (valid_to IS NULL OR valid_to > T).
            models.Index(fields=["account", "valid_from", "valid_to"], name="vaults_%(class)s_at"),
            # The spans recording compares with the live state: only the open ones.
            models.Index(fields=["account"], condition=Q(valid_to__isnull=True), name="vaults_%(class)s_open"),
        ]


class UserSpan(Span):
    op_id = models.CharField(max_length=64)
    name = models.CharField(max_length=500, blank=True)
    email = models.CharField(max_length=500, blank=True)
    user_type = models.CharField(max_length=40, blank=True)
    state = models.CharField(max_length=100, blank=True)
    removed = models.BooleanField(default=False)

    class Meta(Span.Meta):
        pass


class GroupSpan(Span):
    op_id = models.CharField(max_length=64)
    name = models.CharField(max_length=500, blank=True)
    removed = models.BooleanField(default=False)

    class Meta(Span.Meta):
        pass


class MembershipSpan(Span):
    group_op_id = models.CharField(max_length=64)
    user_op_id = models.CharField(max_length=64)
    role = models.CharField(max_length=40, blank=True)

    class Meta(Span.Meta):
        pass


class GrantSpan(Span):
    """A direct grant on a vault to a user or to a group (the other op id is "")."""

    vault_op_id = models.CharField(max_length=64)
    user_op_id = models.CharField(max_length=64, blank=True)
    group_op_id = models.CharField(max_length=64, blank=True)
    # Granular names (vaults.access.normalise_permissions), sorted: op printing the broad
    # `allow_*` names one day and the granular ones the next is no change.
    permissions = models.JSONField(default=list)

    class Meta(Span.Meta):
        pass


class VaultSpan(Span):
    op_id = models.CharField(max_length=64)
    name = models.CharField(max_length=1000)
    classification = models.CharField(max_length=20)
    removed = models.BooleanField(default=False)

    class Meta(Span.Meta):
        pass


class ItemSpan(Span):
    """The facts the reports count about an item; never its title, fields or anything secret."""

    op_id = models.CharField(max_length=64)
    vault_op_id = models.CharField(max_length=64)
    category = models.CharField(max_length=40)
    archived = models.BooleanField(default=False)
    removed = models.BooleanField(default=False)
    # Subject to rotation under the policy in force when recorded, with a secret whose last change
    # is known (the rotation figure's own predicate: compliance/reports/evidence.py).
    rotating = models.BooleanField(default=False)

    class Meta(Span.Meta):
        pass


class HistoryStart(models.Model):
    """When history began for an account (its first recording): before it there is no evidence."""

    account = models.OneToOneField("vaults.Account", on_delete=models.CASCADE, primary_key=True,
                                   related_name="history_start")
    since = models.DateTimeField()

    def __str__(self) -> str:
        return f"History of {self.account_id} since {self.since:%Y-%m-%d %H:%M}"
