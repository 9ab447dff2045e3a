from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Vault(models.Model):
    class Classification(models.TextChoices):
        PRODUCTION = "production", "Production"
        NON_PRODUCTION = "non-production", "Non-production"
        SHARED = "shared", "Shared / corporate"
        PERSONAL = "personal", "Personal"
        # Break-glass vaults: every use is an emergency event (vaults/breakglass/).
        EMERGENCY = "emergency", "Emergency / break-glass"
        UNCLASSIFIED = "unclassified", "Unclassified"

    account = models.ForeignKey("vaults.Account", on_delete=models.CASCADE, related_name="vaults")
    op_id = models.CharField(max_length=64)
    name = models.CharField(max_length=1000)
    description = models.TextField(blank=True)
    vault_type = models.CharField(max_length=40, blank=True)  # op: USER_CREATED, PERSONAL, EVERYONE...
    content_version = models.PositiveBigIntegerField(default=0)
    # content_version of the last *successful* item listing; differs from content_version while
    # a listing is pending, so an interrupted sync retries exactly the vaults it did not finish.
    listed_content_version = models.PositiveBigIntegerField(null=True, blank=True)
    classification = models.CharField(
        max_length=20, choices=Classification.choices, default=Classification.UNCLASSIFIED
    )
    classification_set_by_person = models.BooleanField(default=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_vaults",
        help_text="Team lead who owns the vault: reviews and cleanup are routed to them.",
    )
    created_by_op_id = models.CharField(max_length=64, blank=True)
    op_created_at = models.DateTimeField(null=True, blank=True)
    op_updated_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    first_seen = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["account", "op_id"], name="vault_unique_op_id")]

    def __str__(self) -> str:
        return self.name


class Item(models.Model):
    """Metadata of one 1Password item. Nothing here is a secret: no field value, no notes text,
    no password history, no `additional_information` (which holds note text for notes)."""

    vault = models.ForeignKey(Vault, on_delete=models.CASCADE, related_name="items")
    op_id = models.CharField(max_length=64)
    title = models.TextField()
    category = models.CharField(max_length=40)
    version = models.PositiveIntegerField(default=0)
    # Version whose details (`op item get`) are stored; lags `version` until the next fetch.
    detail_version = models.PositiveIntegerField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    urls = models.JSONField(default=list, blank=True)  # [{"label", "href", "primary"}]
    field_labels = models.JSONField(default=list, blank=True)  # [{"label", "type", "section"}]
    has_notes = models.BooleanField(default=False)
    # Keyed HMAC of the sign-in name (vaults/op/parse.py): same secret + same service + another
    # account is a reused password, not a copy. Never the name itself.
    username_fingerprint = models.CharField(max_length=64, blank=True, default="")
    # DOCUMENT files and attachments: [{"name", "size"}] (bytes). Metadata only: content is never fetched.
    files = models.JSONField(default=list, blank=True)
    expires_at = models.DateField(null=True, blank=True)
    favorite = models.BooleanField(default=False)
    archived = models.BooleanField(default=False)
    last_edited_by = models.CharField(max_length=64, blank=True)
    op_created_at = models.DateTimeField(null=True, blank=True)
    op_updated_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    first_seen = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]
        constraints = [models.UniqueConstraint(fields=["vault", "op_id"], name="item_unique_op_id")]
        indexes = [models.Index(fields=["vault", "removed_at"]), models.Index(fields=["op_id"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_active(self) -> bool:
        return self.removed_at is None and not self.archived


ACTIVE_ITEMS = Q(removed_at__isnull=True, archived=False)


class SecretField(models.Model):
    """Derived facts about one concealed field. The value itself never reaches the database."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="secret_fields")
    field_id = models.CharField(max_length=200)
    label = models.TextField(blank=True)
    field_type = models.CharField(max_length=40)
    purpose = models.CharField(max_length=40, blank=True)
    # HMAC-SHA256(FINGERPRINT_KEY, value); null when `op` did not return the value.
    fingerprint = models.CharField(max_length=64, null=True, blank=True, db_index=True)
    zxcvbn_score = models.PositiveSmallIntegerField(null=True, blank=True)
    length = models.PositiveIntegerField(null=True, blank=True)
    strength = models.CharField(max_length=20, blank=True)  # op's own label: TERRIBLE ... FANTASTIC
    history_count = models.PositiveIntegerField(default=0)
    # op's `password_details.generated`: made by 1Password's generator (True) or chosen by a
    # person (False); None when op did not say.
    generated = models.BooleanField(null=True, blank=True)
    value_available = models.BooleanField(default=True)
    # When the fingerprint last changed (first sync: the item's updated_at): the rotation age.
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "field_id"], name="secret_field_unique")
        ]

    def __str__(self) -> str:
        return f"{self.item_id}:{self.field_id}"
