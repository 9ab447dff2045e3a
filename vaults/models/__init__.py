from vaults.models.access import GroupMembership, OpGroup, OpUser, VaultGrant
from vaults.models.account import Account
from vaults.models.events import (
    AuditEvent,
    ItemUsage,
    ItemUsageAccountDay,
    ItemUsageDaily,
    ItemUsageItemMonth,
    ItemUsagePersonDay,
    ItemUsagePersonMonth,
    ItemUsageTagDay,
    ItemUsageTagMonth,
    ItemUsageVaultDay,
    SignInAttempt,
)
from vaults.models.history import (
    GrantSpan,
    GroupSpan,
    HistoryStart,
    ItemSpan,
    MembershipSpan,
    UserSpan,
    VaultSpan,
)
from vaults.models.inventory import Item, SecretField, Vault
from vaults.models.sync import SyncRun

__all__ = [
    "Account",
    "AuditEvent",
    "GrantSpan",
    "GroupMembership",
    "GroupSpan",
    "HistoryStart",
    "Item",
    "ItemSpan",
    "ItemUsage",
    "ItemUsageAccountDay",
    "ItemUsageDaily",
    "ItemUsageItemMonth",
    "ItemUsagePersonDay",
    "ItemUsagePersonMonth",
    "ItemUsageTagDay",
    "ItemUsageTagMonth",
    "ItemUsageVaultDay",
    "MembershipSpan",
    "OpGroup",
    "OpUser",
    "SecretField",
    "SignInAttempt",
    "SyncRun",
    "UserSpan",
    "Vault",
    "VaultGrant",
    "VaultSpan",
]
