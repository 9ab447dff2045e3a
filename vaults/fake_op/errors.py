"""The error texts and exit codes of real `op`, from ../shared/op-samples/op-errors.md.

Where op-errors.md has no verbatim text or exit code (429 exit code, 409, 500, the 403 for grants
on a vault the service account did not create or for a group it may not manage), the text follows
op's `(code) Reason: message` form and the exit code follows its observed pattern: 4 for HTTP errors, 1 for everything else.
"""

from __future__ import annotations

from vaults.fake_op.account import utc_now


class FakeOpError(Exception):
    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code

    def stderr(self) -> str:
        """op's `[ERROR] YYYY/MM/DD HH:MM:SS message` line."""
        return f"[ERROR] {utc_now():%Y/%m/%d %H:%M:%S} {self.message}\n"


def not_an_item(ref: str, vault_ref: str | None = None) -> FakeOpError:
    if vault_ref is None:
        return FakeOpError(f'"{ref}" isn\'t an item. Specify the item with its UUID, name, or domain.')
    return FakeOpError(
        f'"{ref}" isn\'t an item in the "{vault_ref}" vault. Specify the item with its UUID, name, or domain.'
    )


def not_a_vault(ref: str) -> FakeOpError:
    return FakeOpError(f'"{ref}" isn\'t a vault in this account. Specify the vault with its ID or name.')


def not_a_user(ref: str) -> FakeOpError:
    return FakeOpError(
        f'"{ref}" isn\'t a user in this account. Specify the user with their UUID, email address, or name.'
    )


def not_a_group(ref: str) -> FakeOpError:
    return FakeOpError(f'"{ref}" isn\'t a group in this account. Specify the group with its UUID or name.')


def not_signed_in(command: str) -> FakeOpError:
    if command == "whoami":
        return FakeOpError("account is not signed in")
    return FakeOpError("You are not currently signed in. Please run `op signin --help` for instructions")


def malformed_token() -> FakeOpError:
    # Only the substring "failed to DecodeSACCredentials" is documented for a malformed token.
    return FakeOpError(
        "error initializing client: failed to DecodeSACCredentials: failed to decode service account token"
    )


def service_account_deleted() -> FakeOpError:
    return FakeOpError(
        "error initializing client: Authentication: (failed to auth.LookupAuth), Network: (failed to "
        "request.DoUnencrypted), Server: (403) (Forbidden (Service Account Deleted)), The Service "
        "Account used in this integration has been deleted."
    )


def rate_limited(retry_seconds: int) -> FakeOpError:
    minutes = max(1, -(-retry_seconds // 60))
    return FakeOpError(
        "(429) Too Many Requests: You've reached the maximum number of this type of requests this "
        f"service account is allowed to make. Please retry in {minutes} minutes or try other requests.",
        exit_code=4,
    )


def conflict() -> FakeOpError:
    return FakeOpError("(409) Conflict: Internal server conflict", exit_code=4)


def internal_error() -> FakeOpError:
    return FakeOpError("(500) Internal Server Error: An unexpected error occurred.", exit_code=4)


def forbidden_vault(vault_name: str) -> FakeOpError:
    return FakeOpError(f"(403) Forbidden: You do not have the requested access to vault '{vault_name}'.", exit_code=4)


def forbidden_group(group_name: str) -> FakeOpError:
    # No verbatim sample: the same `(403) Forbidden:` form as for a vault.
    return FakeOpError(f"(403) Forbidden: You do not have the requested access to group '{group_name}'.", exit_code=4)


def usage(message: str) -> FakeOpError:
    return FakeOpError(message)
