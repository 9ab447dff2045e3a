"""`classify` maps op's real stderr (op-errors.md) to typed, correctly retryable errors."""

from __future__ import annotations

import re

import pytest

from tests.vaults.op.conftest import OP_ERRORS_MD, TOKEN
from vaults.op.errors import (
    OpCommandFailed,
    OpConflict,
    OpError,
    OpNotFound,
    OpNotSignedIn,
    OpPermissionDenied,
    OpRateLimited,
    OpTimeout,
    classify,
    retry_after_seconds,
)

RATE_LIMIT = (
    "[ERROR] 2023/06/26 11:55:32 (429) Too Many Requests: You've reached the maximum number of this type of "
    "requests this service account is allowed to make. Please retry in 58 minutes or try other requests.\n"
)
DELETED_SERVICE_ACCOUNT = (
    "[ERROR] 2023/05/22 21:21:36 error initializing client: Authentication: (failed to auth.LookupAuth), Network: "
    "(failed to request.DoUnencrypted), Server: (403) (Forbidden (Service Account Deleted)), The Service Account "
    "used in this integration has been deleted.\n"
)


@pytest.mark.parametrize(
    ("exit_code", "stderr", "expected"),
    [
        (1, "[ERROR] 2023/08/29 12:30:21 service account token set, but not authenticated yet\n", OpNotSignedIn),
        (1, "[ERROR] 2024/03/19 19:34:06 no account found for filter \n", OpNotSignedIn),
        (1, "[ERROR] 2023/03/10 20:47:00 account is not signed in\n", OpNotSignedIn),
        (1, DELETED_SERVICE_ACCOUNT, OpNotSignedIn),
        (1, "[ERROR] 2024/01/01 00:00:00 failed to DecodeSACCredentials: illegal base64 data\n", OpNotSignedIn),
        (1, '[ERROR] 2022/11/08 19:39:39 "x" isn\'t an item in the "Test Data" vault. Specify the item with its UUID, name, or domain.\n', OpNotFound),
        (1, '[ERROR] 2022/04/28 12:02:32 "Invalid Vault" isn\'t a vault in this account. Specify the vault with its ID or name.\n', OpNotFound),
        (1, '[ERROR] 2022/04/28 12:02:34 "No Such group" isn\'t a group in this account. Specify the group with its UUID or name.\n', OpNotFound),
        (4, "[ERROR] 2023/12/12 13:19:34 (404) Not Found: The requested resource was not found.\n", OpNotFound),
        (1, "[ERROR] 2026/02/20 10:52:58 (403) Forbidden (Firewall Rule): The IP address of your SCIM bridge was blocked by a 1Password firewall rule.\n", OpPermissionDenied),
        (1, "[ERROR] 2023/02/14 00:05:08 Couldn't issue the token: \"can't grant access to the vault: You do not have the requested access to vault 'Temp'.\"\n", OpPermissionDenied),
        (1, RATE_LIMIT, OpRateLimited),
        # op-errors.md has no 409 capture; this follows op's "(code) Reason: text" shape seen for 400/404/429.
        (4, "[ERROR] 2025/01/01 00:00:00 (409) Conflict: The item was changed by another request.\n", OpConflict),
        (1, "[ERROR] 2023/07/24 16:40:27 read: context deadline exceeded\n", OpTimeout),
        (4, "[ERROR] 2024/11/16 20:40:08 (400) Bad Request: The structure of request was invalid.\n", OpCommandFailed),
        (1, '[ERROR] 2022/06/22 12:58:41 unknown command "list" for "op"\n', OpCommandFailed),
    ],
)  # fmt: skip
def test_it_classifies_real_op_errors(exit_code: int, stderr: str, expected: type[OpError]) -> None:
    error = classify(exit_code, stderr)
    assert type(error) is expected
    assert error.exit_code == exit_code
    assert not error.stderr_excerpt.startswith("[ERROR]")
    assert error.hint


@pytest.mark.parametrize(
    ("error_class", "retryable"),
    [(OpRateLimited, True), (OpConflict, True), (OpTimeout, True), (OpNotSignedIn, False), (OpNotFound, False),
     (OpPermissionDenied, False), (OpCommandFailed, False)],
)  # fmt: skip
def test_it_marks_only_transient_errors_retryable(error_class: type[OpError], retryable: bool) -> None:
    assert error_class("x").retryable is retryable


def test_it_reads_how_long_a_rate_limit_asks_to_wait() -> None:
    error = classify(1, RATE_LIMIT)
    assert isinstance(error, OpRateLimited)
    assert error.retry_after_seconds == 58 * 60
    assert retry_after_seconds("please retry in 30 seconds") == 30
    assert retry_after_seconds("(429) Too Many Requests") is None


def test_it_reports_the_go_panic_on_a_corrupt_token_as_not_signed_in() -> None:
    panic = (
        "panic: runtime error: invalid memory address or nil pointer dereference\n"
        "goroutine 1 [running]:\n"
        "go.1password.io/op/core/sof.UserManagedServiceAccountInfoFromSAToken({0x14000044199?, 0x102742554?})\n"
    )
    assert isinstance(classify(2, panic), OpNotSignedIn)


def test_it_redacts_tokens_from_the_stderr_excerpt() -> None:
    error = classify(1, f"[ERROR] 2024/01/01 00:00:00 bad token {TOKEN} given\n", secrets=(TOKEN,))
    assert TOKEN not in error.stderr_excerpt and TOKEN not in str(error)
    anonymous = classify(1, f"[ERROR] 2024/01/01 00:00:00 bad token {TOKEN} given\n")
    assert TOKEN not in anonymous.stderr_excerpt


def test_it_keeps_the_excerpt_short() -> None:
    assert len(classify(1, "x" * 10000).stderr_excerpt) <= 501


# Every fenced stderr block of op-errors.md must be consciously mapped: the first marker found in
# the block decides the expected class. A new block without a marker fails this test.
MARKERS: list[tuple[str, type[OpError]]] = [
    ("too many requests", OpRateLimited),
    ("service account deleted", OpNotSignedIn),
    ("not authenticated yet", OpNotSignedIn),
    ("no account found", OpNotSignedIn),
    ("not signed in", OpNotSignedIn),
    ("not currently signed in", OpNotSignedIn),
    ("no saved device id", OpNotSignedIn),
    ("panic:", OpNotSignedIn),
    ("firewall rule", OpPermissionDenied),
    ("do not have the requested access", OpPermissionDenied),
    ("isn't a", OpNotFound),
    ("(404) not found", OpNotFound),
    ("context deadline exceeded", OpTimeout),
    ("more than one item matches", OpCommandFailed),
    ("(400) bad request", OpCommandFailed),
    ("email length is too small", OpCommandFailed),
    ("invalid argument", OpCommandFailed),
    ("operation not supported", OpCommandFailed),
    ("unknown command", OpCommandFailed),
    ("unsupported protocol scheme", OpCommandFailed),
]


def error_blocks() -> list[str]:
    if not OP_ERRORS_MD.exists():
        return []
    return re.findall(r"```text\n(.*?)```", OP_ERRORS_MD.read_text(), flags=re.DOTALL)


def test_it_classifies_every_error_text_in_op_errors_md() -> None:
    blocks = error_blocks()
    if not blocks:
        pytest.skip(f"{OP_ERRORS_MD} is absent in this checkout")
    for block in blocks:
        lowered = block.lower()
        expected = next((cls for marker, cls in MARKERS if marker in lowered), None)
        assert expected is not None, f"unmapped op error text: {block[:80]!r}"
        assert type(classify(1, block)) is expected, block[:120]


@pytest.mark.parametrize("vault_name", ["Unauthorized vendors", "Rate limited keys", "Conflict minerals", "Forbidden zone"])
def test_a_quoted_vault_name_never_decides_the_kind_of_error(vault_name: str) -> None:
    stderr = (f'[ERROR] 2022/11/08 19:39:39 "bbbbbbnnotgv5xwrhjbdj6bt3r" isn\'t an item in the "{vault_name}" vault. '
              "Specify the item with its UUID, name, or domain.\n")  # fmt: skip

    assert type(classify(1, stderr)) is OpNotFound


def test_op_s_own_words_outside_quotes_still_decide_it() -> None:
    # Decoys for the rule above: the same words unquoted are op's, and count.
    assert type(classify(1, "[ERROR] 2023/03/10 20:47:00 account is not signed in\n")) is OpNotSignedIn
    assert type(classify(1, '[ERROR] (403) Forbidden (Firewall Rule) for "Unauthorized vendors"\n')) is OpPermissionDenied
