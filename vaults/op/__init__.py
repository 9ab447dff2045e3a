"""The only code in OpenClaw that runs the 1Password CLI `op`.

Secret values exist only inside this package, between reading `op item get --reveal` output and
computing derived facts in `fingerprint.py`. Everything exported here is metadata.

API for the rest of the project
-------------------------------
Client (`runner.py`), one per token::

    client = OpClient(op_bin=settings.OP_BIN, token=os.environ[account.token_env],
                      timeout=settings.OP_TIMEOUT_SECONDS, max_retries=settings.OP_MAX_RETRIES,
                      fingerprint_key=settings.FINGERPRINT_KEY.encode(),
                      max_in_flight=None)  # or N: at most N op processes at once, any thread count
    client.calls / client.requests        # attempts run / API requests spent (thread-safe ints)

    Reads                                         returns
    client.whoami()                               WhoAmI
    client.vault_list()                           tuple[VaultRecord, ...]
    client.vault_get(vault_id)                    VaultRecord
    client.item_list(vault_id, include_archive=False)   tuple[ItemSummary, ...]
    client.item_get(item_id, vault_id)            ItemDetail (fields carry SecretFacts, no values)
    client.item_get_batch(item_ids, vault_id)     ItemBatch: `.details` {id: ItemDetail} of one vault
                                                  read through one `op item get -`, `.vanished`
                                                  ids; items the batch missed are re-read alone;
                                                  after a short 429 only the unread are asked again
    client.user_list()                            tuple[UserRecord, ...]
    client.group_list()                           tuple[GroupRecord, ...]
    client.vault_user_list(vault_id)              tuple[VaultUserGrant, ...]
    client.vault_group_list(vault_id)             tuple[VaultGroupGrant, ...]
    client.group_user_list(group_id)              tuple[GroupMember, ...]
    client.ratelimit()                            tuple[RateLimitRow, ...]

    Writes (approved cleanup actions only)
    client.edit_title(item_id, vault_id, title)   ItemSummary (as op printed it after the edit)
    client.edit_tags(item_id, vault_id, tags)     ItemSummary (tags replace the item's tags)
    client.edit_url(item_id, vault_id, url)       ItemSummary
    client.generate_password(item_id, vault_id, recipe="letters,digits,symbols,32") ItemSummary
    client.move_item(item_id, current_vault_id=V, destination_vault_id=W)  str: the NEW item id
    client.archive_item(item_id, vault_id)        None (`op item delete --archive`; a delete
                                                  without --archive cannot be expressed)
    client.revoke_user(vault_id, user_id, permissions)    None
    client.revoke_group(vault_id, group_id, permissions)  None
    client.remove_group_member(group_id, user_id)         None (`op group user revoke`)

All ids must be op ids (26 letters/digits) or `OpInvalidArgument` is raised before op runs.

Errors (`errors.py`): every failure is an `OpError` with `.retryable`, `.hint` (for the
operator), `.exit_code`, `.stderr_excerpt` (redacted). Subclasses: `OpNotSignedIn`, `OpNotFound`,
`OpPermissionDenied`, `OpRateLimited` (`.retry_after_seconds`), `OpConflict`, `OpTimeout`,
`OpMalformedOutput`, `OpUnavailable`, `OpInvalidArgument` (`OpHiddenCharacters`: bidi or
invisible characters in a value), `OpCommandFailed`.
`classify(exit_code, stderr)` maps op's stderr to one of them. The client already retries
rate limits (if op asks to wait <= 60 s), conflicts and read timeouts; an `OpRateLimited` that
reaches you means "record when to resume", not "sleep".

Parsers (`parse.py`, pure, bytes in): `parse_whoami`, `parse_vault_list`, `parse_vault_get`,
`parse_item_list`, `parse_item_get(raw, *, fingerprint_key, known_scores=None)`, `parse_item_get_stream` (a batch's
JSON stream; returns the items read and the problems met, never raises), `parse_item_summary`,
`parse_user_list`, `parse_group_list`, `parse_vault_user_list`, `parse_vault_group_list`,
`parse_group_user_list`, `parse_ratelimit`. They raise only `OpMalformedOutput` (except `parse_item_get_stream`, see above).

Records (`records.py`, frozen dataclasses): `WhoAmI`, `VaultRecord` (`content_version` may be
None: then list the vault every time), `ItemSummary` (`.archived`), `UrlRecord`, `ItemDetail`
(`.secret_fields`, `has_notes`, `expires_at`), `ItemBatch`, `FieldRecord` (id unique within the item),
`SecretFacts`, `UserRecord`, `GroupRecord`, `VaultUserGrant`, `VaultGroupGrant`, `GroupMember`,
`RateLimitRow`.

`secret_facts(value, *, strength_label, history_count, key, score_strength=True, known_scores=None)`
(`fingerprint.py`) is exported for the fake op and tests; production code never has a value to
give it. `known_scores` (a `KnownScores`, fingerprint -> score) skips zxcvbn for a value already scored.

What a fake `op` must do to be compatible: accept the argv built in `commands.py` (always
starting `--format json`), read the token from `OP_SERVICE_ACCOUNT_TOKEN`, read its own settings
from `FAKE_OP_*` variables (the only others passed through besides PATH, HOME, LANG), print JSON
shaped like the samples in ../shared/op-samples/, print the moved item as JSON for
`item move` and the edited item for `item edit`, read `item get -`'s items from stdin and print
them one after another, and report errors on stderr as
`[ERROR] YYYY/MM/DD HH:MM:SS <message>` with the texts of op-errors.md and a non-zero exit.
"""

from vaults.op.commands import OpCommand, validate_id
from vaults.op.errors import (
    OpCommandFailed,
    OpConflict,
    OpError,
    OpHiddenCharacters,
    OpInvalidArgument,
    OpMalformedOutput,
    OpNotFound,
    OpNotSignedIn,
    OpPermissionDenied,
    OpRateLimited,
    OpStopped,
    OpTimeout,
    OpUnavailable,
    classify,
)
from vaults.op.fingerprint import secret_facts
from vaults.op.parse import (
    parse_group_list,
    parse_group_user_list,
    parse_item_get,
    parse_item_get_stream,
    parse_item_list,
    parse_item_summary,
    parse_ratelimit,
    parse_user_list,
    parse_vault_get,
    parse_vault_group_list,
    parse_vault_list,
    parse_vault_user_list,
    parse_whoami,
)
from vaults.op.records import (
    FieldRecord,
    GroupMember,
    GroupRecord,
    ItemBatch,
    ItemDetail,
    ItemSummary,
    RateLimitRow,
    SecretFacts,
    UrlRecord,
    UserRecord,
    VaultGroupGrant,
    VaultRecord,
    VaultUserGrant,
    WhoAmI,
)
from vaults.op.runner import OpClient

__all__ = [
    "FieldRecord",
    "GroupMember",
    "GroupRecord",
    "ItemBatch",
    "ItemDetail",
    "ItemSummary",
    "OpClient",
    "OpCommand",
    "OpCommandFailed",
    "OpConflict",
    "OpError",
    "OpHiddenCharacters",
    "OpInvalidArgument",
    "OpMalformedOutput",
    "OpNotFound",
    "OpNotSignedIn",
    "OpPermissionDenied",
    "OpRateLimited",
    "OpStopped",
    "OpTimeout",
    "OpUnavailable",
    "RateLimitRow",
    "SecretFacts",
    "UrlRecord",
    "UserRecord",
    "VaultGroupGrant",
    "VaultRecord",
    "VaultUserGrant",
    "WhoAmI",
    "classify",
    "parse_group_list",
    "parse_group_user_list",
    "parse_item_get",
    "parse_item_get_stream",
    "parse_item_list",
    "parse_item_summary",
    "parse_ratelimit",
    "parse_user_list",
    "parse_vault_get",
    "parse_vault_group_list",
    "parse_vault_list",
    "parse_vault_user_list",
    "parse_whoami",
    "secret_facts",
    "validate_id",
]
