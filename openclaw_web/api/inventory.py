"""Accounts, sync runs, vaults and items: what the inventory pages show, as JSON."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field as F
from ninja import Query, Router, Schema

from openclaw_web.api.auth import ApiAuth
from openclaw_web.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, paginate
from openclaw_web.api.schemas import (
    WITHOUT_NUL,
    AccountOut,
    AccountPage,
    Id,
    ItemOut,
    ItemPage,
    SyncRunOut,
    SyncRunPage,
    VaultOut,
    VaultPage,
)
from openclaw_web.roles import Capability
from vaults import search
from vaults.models import Account, Item, SyncRun, Vault

router = Router(auth=ApiAuth(Capability.VIEW_INVENTORY), tags=["inventory"])


class PageParams(Schema):
    cursor: str | None = F(None, pattern=WITHOUT_NUL, max_length=2000, description="next_cursor of the previous page")
    limit: int = F(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class SyncRunFilters(PageParams):
    account: Id | None = None
    status: SyncRun.Status | None = None


class VaultFilters(PageParams):
    account: Id | None = None
    classification: Vault.Classification | None = None
    include_removed: bool = False


class ItemFilters(PageParams):
    account: Id | None = None
    vault: Id | None = None
    category: str | None = F(None, max_length=40, pattern=r"^[A-Z_]+$")
    include_removed: bool = F(False, description="also list items removed from 1Password or archived")
    q: str = F("", pattern=WITHOUT_NUL, max_length=search.MAX_QUERY_CHARS,
               description='search as the search page does (every word, any order, typos forgiven): "stripe prod"')


@router.get("/accounts", response=AccountPage)
def list_accounts(request: HttpRequest, params: Query[PageParams]) -> dict[str, Any]:
    return paginate(Account.objects.all(), order=("id",), cursor=params.cursor, limit=params.limit)


@router.get("/accounts/{account_id}", response=AccountOut)
def get_account(request: HttpRequest, account_id: Id) -> Account:
    return get_object_or_404(Account, pk=account_id)


@router.get("/sync-runs", response=SyncRunPage)
def list_sync_runs(request: HttpRequest, params: Query[SyncRunFilters]) -> dict[str, Any]:
    """Newest first."""
    runs = SyncRun.objects.all()
    if params.account is not None:
        runs = runs.filter(account_id=params.account)
    if params.status is not None:
        runs = runs.filter(status=params.status)
    return paginate(runs, order=("-id",), cursor=params.cursor, limit=params.limit)


@router.get("/sync-runs/{run_id}", response=SyncRunOut)
def get_sync_run(request: HttpRequest, run_id: Id) -> SyncRun:
    return get_object_or_404(SyncRun, pk=run_id)


def _vaults() -> Any:
    return Vault.objects.select_related("owner")


@router.get("/vaults", response=VaultPage)
def list_vaults(request: HttpRequest, params: Query[VaultFilters]) -> dict[str, Any]:
    vaults = _vaults()
    if params.account is not None:
        vaults = vaults.filter(account_id=params.account)
    if params.classification is not None:
        vaults = vaults.filter(classification=params.classification)
    if not params.include_removed:
        vaults = vaults.filter(removed_at__isnull=True)
    return paginate(vaults, order=("id",), cursor=params.cursor, limit=params.limit)


@router.get("/vaults/{vault_id}", response=VaultOut)
def get_vault(request: HttpRequest, vault_id: Id) -> Vault:
    return get_object_or_404(_vaults(), pk=vault_id)


def _items() -> Any:
    return Item.objects.prefetch_related("secret_fields")


@router.get("/items", response=ItemPage)
def list_items(request: HttpRequest, params: Query[ItemFilters]) -> dict[str, Any]:
    """Item metadata and the strength facts of each concealed field; never a value."""
    items = _items()
    if params.account is not None:
        items = items.filter(vault__account_id=params.account)
    if params.vault is not None:
        items = items.filter(vault_id=params.vault)
    if params.category:
        items = items.filter(category=params.category)
    if not params.include_removed:
        items = items.filter(removed_at__isnull=True, archived=False)
    with search.typo_tolerance() if params.q else nullcontext():  # no transaction for a plain listing
        return paginate(search.filter_items(items, params.q), order=("id",), cursor=params.cursor, limit=params.limit)


@router.get("/items/{item_id}", response=ItemOut)
def get_item(request: HttpRequest, item_id: Id) -> Item:
    return get_object_or_404(_items(), pk=item_id)
