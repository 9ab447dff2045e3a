"""One leaver's organisation, built row by row, with every decoy next to a true case.

Lena leaves today. She reaches "Payments Prod" (production) directly with copy rights,
"Dev Tools" through the group Engineering (Teams' allow_viewing, which includes copying) and
"Marketing" directly with view-only rights. "Finance" she cannot reach; "Legacy" only through a
group that was removed.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from tests.vaults.factories import (
    add_member,
    grant,
    make_account,
    make_item,
    make_op_group,
    make_op_user,
    make_secret,
    make_usage,
    make_vault,
)
from vaults.models import Account, Item, ItemUsage, OpUser, Vault


@dataclass
class World:
    account: Account
    lena: OpUser
    other: OpUser
    prod: Vault
    dev: Vault
    marketing: Vault
    finance: Vault
    stripe: Item
    adyen: Item
    prod_db: Item
    ci_token: Item
    staging_db: Item
    twitter: Item
    now: datetime.datetime


def at(days: float, now: datetime.datetime) -> datetime.datetime:
    return now - datetime.timedelta(days=days)


def build_world(account: Account | None = None) -> World:
    now = timezone.now()
    account = account or make_account(name="Acme")
    lena = make_op_user(account=account, name="Lena Leaver", email="lena@example.com")
    other = make_op_user(account=account, name="Omar Other", email="omar@example.com")
    prod = make_vault(account=account, name="Payments Prod", classification=Vault.Classification.PRODUCTION)
    dev = make_vault(account=account, name="Dev Tools", classification=Vault.Classification.NON_PRODUCTION)
    marketing = make_vault(account=account, name="Marketing", classification=Vault.Classification.SHARED)
    finance = make_vault(account=account, name="Finance", classification=Vault.Classification.PRODUCTION)
    legacy = make_vault(account=account, name="Legacy", classification=Vault.Classification.PRODUCTION)

    grant(vault=prod, user=lena, permissions=["view_items", "view_and_copy_passwords"])
    grant(vault=marketing, user=lena, permissions=["view_items"])
    engineering = make_op_group(account=account, name="Engineering", members=[lena])
    grant(vault=dev, group=engineering, permissions=["allow_viewing"])
    old_team = make_op_group(account=account, name="Old Team", removed_at=at(200, now))
    add_member(group=old_team, user=lena)
    grant(vault=legacy, group=old_team, permissions=["allow_viewing"])
    grant(vault=finance, user=other, permissions=["allow_viewing"])

    def item(vault: Vault, title: str, *, secret: bool = True, category: str = "API_CREDENTIAL") -> Item:
        made = make_item(vault=vault, title=title, category=category)
        if secret:
            make_secret(item=made)
        return made

    stripe = item(prod, "Stripe Live Key")
    adyen = item(prod, "Adyen Key")
    prod_db = item(prod, "Prod DB", category="DATABASE")
    ci_token = item(dev, "CI Token")
    staging_db = item(dev, "Staging DB", category="DATABASE")
    item(dev, "Wiki notes", secret=False, category="SECURE_NOTE")  # no secret field: nothing to rotate
    twitter = item(marketing, "Twitter", category="LOGIN")
    newsletter = item(marketing, "Newsletter", category="LOGIN")  # view-only vault, unused
    bank = item(finance, "Bank Portal", category="LOGIN")
    legacy_key = item(legacy, "Legacy Key")  # reachable only through a removed group
    archived = item(prod, "Archived Key")
    archived.archived = True
    archived.save()

    # Retention already summarised these (raw events deleted below, daily counts kept).
    for _ in range(3):
        make_usage(account=account, user=lena, item=adyen, when=at(60, now), action="fill")
    make_usage(account=account, user=lena, item=newsletter, when=at(120, now), action="reveal")  # before the window
    ItemUsage.objects.filter(timestamp__lt=at(45, now)).delete()

    make_usage(account=account, user=lena, item=stripe, when=at(12, now), action="reveal")
    make_usage(account=account, user=lena, item=stripe, when=at(10, now), action="reveal")
    make_usage(account=account, user=lena, item=stripe, when=at(11, now), action="fill")
    make_usage(account=account, user=lena, item=ci_token, when=at(3, now), action="export")
    make_usage(account=account, user=lena, item=twitter, when=at(2, now), action="secure-copy")
    make_usage(account=account, user=lena, item=archived, when=at(2, now), action="reveal")  # archived since
    make_usage(account=account, user=other, item=bank, when=at(1, now), action="reveal")  # someone else's use
    make_usage(account=account, user=other, item=stripe, when=at(1, now), action="export")  # someone else's use
    make_usage(account=account, user=lena, item=legacy_key, when=at(130, now), action="reveal")  # before the window
    ItemUsage.objects.filter(item_op_id=legacy_key.op_id).delete()
    return World(account, lena, other, prod, dev, marketing, finance, stripe, adyen, prod_db, ci_token, staging_db, twitter, now)
