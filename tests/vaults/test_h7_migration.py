"""The h7 migration's data step: stored DOCUMENT items get their `files` on the next sync."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from django.apps import apps

from tests.vaults.factories import make_account, make_item, make_vault
from vaults.models import Item, Vault

pytestmark = pytest.mark.django_db


def refetch_documents() -> None:
    [path] = Path(__file__).resolve().parents[2].glob("vaults/migrations/*_h7_sync_captures.py")
    importlib.import_module(f"vaults.migrations.{path.stem}").refetch_documents(apps, None)


def test_vaults_holding_documents_are_listed_again_and_only_documents_refetched() -> None:
    account = make_account()
    papers, logins = make_vault(account=account, name="Papers"), make_vault(account=account, name="Logins")
    Vault.objects.filter(pk__in=[papers.pk, logins.pk]).update(content_version=9, listed_content_version=9)
    document = make_item(vault=papers, category="DOCUMENT", version=4, detail_version=4)
    login = make_item(vault=papers, category="LOGIN", version=2, detail_version=2)
    elsewhere = make_item(vault=logins, category="LOGIN", version=3, detail_version=3)

    refetch_documents()

    assert Vault.objects.get(pk=papers.pk).listed_content_version is None
    assert Vault.objects.get(pk=logins.pk).listed_content_version == 9  # decoy: no document inside
    assert Item.objects.get(pk=document.pk).detail_version is None
    assert Item.objects.get(pk=login.pk).detail_version == 2
    assert Item.objects.get(pk=elsewhere.pk).detail_version == 3
