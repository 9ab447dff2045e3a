"""OpenClaw's own identity in the 1Password account: the service account the sync runs as.

The sync records `op whoami`'s `user_uuid` on the Account. That user holds a grant on every vault
it reads and rarely "uses" items the way a person does, so every access rule would flag it; and
following those flags (revoking it) would cut OpenClaw off from the account. Findings never name
it, access reviews show it apart as the service account, and no revocation is proposed for it.
"""

from __future__ import annotations

from vaults.models import Account, OpUser


def sync_identity_op_id(account: Account) -> str:
    """op user id of the sync's own identity; '' before the first sync. `service_account_id`
    is the older field written from the same `op whoami` answer."""
    return account.service_account_user_uuid or account.service_account_id


def is_sync_identity(user: OpUser, account: Account) -> bool:
    own = sync_identity_op_id(account)
    return bool(own) and user.op_id == own
