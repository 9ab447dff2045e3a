from vaults.models.access import GroupMembership, OpGroup, OpUser, VaultGrant
from vaults.models.account import Account
from vaults.models.events import AuditEvent, ItemUsage, SignInAttempt
from vaults.models.inventory import Item, SecretField, Vault
from vaults.models.sync import SyncRun

__all__ = [
    "Account",
    "AuditEvent",
    "GroupMembership",
    "Item",
    "ItemUsage",
    "OpGroup",
    "OpUser",
    "SecretField",
    "SignInAttempt",
    "SyncRun",
    "Vault",
    "VaultGrant",
]
