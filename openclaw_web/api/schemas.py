"""Response shapes. Items carry strength *facts* about their secret fields (score, length, op's
label, history count), never a value and never a fingerprint: a fingerprint is an HMAC of the
value and would let a holder of the API confirm guesses offline if FINGERPRINT_KEY ever leaked."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from django.urls import reverse
from ninja import Field, Schema
from pydantic import create_model

from vaults.findings.health import band

# Path and filter ids are database keys: bounding them turns an absurd id into a 422 instead of
# an integer overflow inside PostgreSQL.
MAX_ID = 2**63 - 1
# PostgreSQL refuses NUL inside a string: a text parameter carrying one is the caller's error
# (422, as the pattern documents), never a server error.
WITHOUT_NUL = r"^[^\x00]*$"
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


class AccountOut(Schema):
    id: int
    name: str
    created_at: datetime.datetime
    permissions_synced_at: datetime.datetime | None
    events_api: bool

    @staticmethod
    def resolve_events_api(obj: Any) -> bool:
        return bool(obj.events_url)


class SyncRunOut(Schema):
    id: int
    account_id: int
    status: str
    scope: str
    phase: str
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    waiting_until: datetime.datetime | None
    op_calls: int
    op_requests: int
    counts: dict[str, Any]
    items_without_values: int
    error: str


class VaultOut(Schema):
    id: int
    account_id: int
    op_id: str
    name: str
    description: str
    vault_type: str
    classification: str
    owner: str | None
    content_version: int
    op_created_at: datetime.datetime | None
    op_updated_at: datetime.datetime | None
    removed_at: datetime.datetime | None
    first_seen: datetime.datetime

    @staticmethod
    def resolve_owner(obj: Any) -> str | None:
        return _username(obj.owner)


class SecretFactsOut(Schema):
    field_id: str
    label: str
    field_type: str
    purpose: str
    zxcvbn_score: int | None
    length: int | None
    strength: str
    history_count: int
    value_available: bool
    changed_at: datetime.datetime | None


class ItemOut(Schema):
    id: int
    vault_id: int
    op_id: str
    title: str
    category: str
    version: int
    tags: list[Any]
    urls: list[Any]
    field_labels: list[Any]
    has_notes: bool
    expires_at: datetime.date | None
    favorite: bool
    archived: bool
    op_created_at: datetime.datetime | None
    op_updated_at: datetime.datetime | None
    last_used_at: datetime.datetime | None
    removed_at: datetime.datetime | None
    first_seen: datetime.datetime
    secret_fields: list[SecretFactsOut]

    @staticmethod
    def resolve_secret_fields(obj: Any) -> list[Any]:
        return list(obj.secret_fields.all())


class FindingOut(Schema):
    id: int
    account_id: int
    kind: str
    severity: str
    status: str
    vault_id: int | None
    item_id: int | None
    op_user_id: int | None
    related_item_ids: list[int]
    title: str
    explanation: str
    recommended_action: str
    details: dict[str, Any]
    first_seen: datetime.datetime
    last_seen: datetime.datetime
    resolved_at: datetime.datetime | None
    accepted_reason: str
    accepted_until: datetime.date | None
    accepted_by: str | None
    accepted_at: datetime.datetime | None

    @staticmethod
    def resolve_last_seen(obj: Any) -> datetime.datetime:
        return obj.last_seen_at

    @staticmethod
    def resolve_related_item_ids(obj: Any) -> list[int]:
        return [item.pk for item in obj.related_items.all()]

    @staticmethod
    def resolve_accepted_by(obj: Any) -> str | None:
        return _username(obj.accepted_by)


class HealthOut(Schema):
    id: int
    account_id: int
    vault_id: int | None
    sync_run_id: int | None
    taken_at: datetime.datetime
    score: int
    band: str
    items: int
    counts: dict[str, Any]
    penalties: dict[str, Any]

    @staticmethod
    def resolve_band(obj: Any) -> str:
        return band(obj.score)


class ReviewOut(Schema):
    id: int
    account_id: int
    title: str
    period: str
    period_start: datetime.datetime
    period_end: datetime.datetime
    scope_label: str
    status: str
    require_second_approver: bool
    opened_by: str | None
    opened_at: datetime.datetime
    signed_off_by: str | None
    signed_off_at: datetime.datetime | None
    sign_off_note: str
    second_approver: str | None
    second_approved_at: datetime.datetime | None
    locked_at: datetime.datetime | None

    @staticmethod
    def resolve_opened_by(obj: Any) -> str | None:
        return _username(obj.opened_by)

    @staticmethod
    def resolve_signed_off_by(obj: Any) -> str | None:
        return _username(obj.signed_off_by)

    @staticmethod
    def resolve_second_approver(obj: Any) -> str | None:
        return _username(obj.second_approver)


class ReviewEntryOut(Schema):
    id: int
    review_id: int
    op_user_id: int | None
    vault_id: int | None
    user_label: str
    user_email: str
    user_state: str
    user_type: str
    vault_name: str
    vault_classification: str
    permissions: list[Any]
    direct_permissions: list[Any]
    via_direct: bool
    via_groups: list[Any]
    usage_count: int
    items_used: int
    last_used_at: datetime.datetime | None
    flag_unused: bool
    flag_over_permissioned: bool
    flag_reasons: list[Any]
    reviewer: str | None
    decision: str
    justification: str
    keep_permissions: list[Any]
    decided_by: str | None
    decided_at: datetime.datetime | None
    remediation: str

    @staticmethod
    def resolve_reviewer(obj: Any) -> str | None:
        return _username(obj.reviewer)

    @staticmethod
    def resolve_decided_by(obj: Any) -> str | None:
        return _username(obj.decided_by)


class ReportOut(Schema):
    id: int
    kind: str
    period: str
    format: str
    status: str
    sha256: str
    size: int
    generator: str
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    error: str
    download_url: str | None

    @staticmethod
    def resolve_generator(obj: Any) -> str:
        return str(obj.generator_label)

    @staticmethod
    def resolve_download_url(obj: Any) -> str | None:
        if obj.status != obj.Status.DONE or not obj.file_path:
            return None
        return reverse("api:download_report", kwargs={"report_id": obj.pk})


def page_schema(name: str, item: type[Schema]) -> type[Schema]:
    """`{"results": [item...], "next_cursor": str | null}` named for the OpenAPI document."""
    fields: dict[str, Any] = {"results": (list[item], ...), "next_cursor": (str | None, None)}  # type: ignore[valid-type]  # a schema built at run time
    return create_model(name, __base__=Schema, **fields)


AccountPage = page_schema("AccountPage", AccountOut)
SyncRunPage = page_schema("SyncRunPage", SyncRunOut)
VaultPage = page_schema("VaultPage", VaultOut)
ItemPage = page_schema("ItemPage", ItemOut)
FindingPage = page_schema("FindingPage", FindingOut)
HealthPage = page_schema("HealthPage", HealthOut)
ReviewPage = page_schema("ReviewPage", ReviewOut)
ReviewEntryPage = page_schema("ReviewEntryPage", ReviewEntryOut)
ReportPage = page_schema("ReportPage", ReportOut)
