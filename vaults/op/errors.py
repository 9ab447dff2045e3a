"""Typed failures of the `op` CLI.

Every way an `op` call can fail becomes one exception class that says two things the caller needs:
whether trying again can help (`retryable`) and what an operator should do (`hint`). `classify`
maps op's stderr to a class using the verbatim texts captured in ../shared/op-samples/op-errors.md.

No exception here ever carries a token or raw stdout: `stderr_excerpt` is redacted and truncated,
and parse failures describe what was wrong without quoting the input (it may hold secret values).
"""

from __future__ import annotations

import re

# Long enough for one op error line plus a little context; a Go panic trace is cut here.
STDERR_EXCERPT_LIMIT = 500

# `[ERROR] 2023/06/26 11:55:32 ` — op's prefix before every message.
_ERROR_PREFIX = re.compile(r"^\s*\[ERROR\]\s+\d{4}/\d{2}/\d{2}\s+\d{2}:\d{2}:\d{2}\s+", re.MULTILINE)
# Service-account tokens start with `ops_`; session tokens are long base64-ish runs. Either must
# never reach a log line or a stored failure reason, even if op one day echoes one.
_TOKEN_LIKE = re.compile(r"ops_[A-Za-z0-9+/=_.\-]+|[A-Za-z0-9+/_\-]{60,}={0,2}")


def redact(text: str, *, secrets: tuple[str, ...] = ()) -> str:
    """Remove the given secrets and anything token-shaped from `text`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return _TOKEN_LIKE.sub("[redacted]", text)


def strip_error_prefix(stderr: str) -> str:
    """op's message without the `[ERROR] YYYY/MM/DD HH:MM:SS ` prefix on each line."""
    return _ERROR_PREFIX.sub("", stderr).strip()


def stderr_excerpt(stderr: str, *, secrets: tuple[str, ...] = ()) -> str:
    """A short, redacted, single-paragraph excerpt of stderr, safe to log and store."""
    text = redact(strip_error_prefix(stderr), secrets=secrets)
    if len(text) > STDERR_EXCERPT_LIMIT:
        text = text[:STDERR_EXCERPT_LIMIT] + "…"
    return text


class OpError(Exception):
    """Base of every `op` failure.

    `retryable` is a class-level fact (a rate limit is worth retrying, an expired token is not);
    `hint` tells the operator what to do and is safe to show in the UI.
    """

    retryable: bool = False
    default_hint: str = "See the op error text; if it persists, run the same op command by hand."

    def __init__(
        self,
        message: str,
        *,
        exit_code: int | None = None,
        stderr_excerpt: str = "",
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.stderr_excerpt = stderr_excerpt
        self.hint = hint if hint is not None else self.default_hint

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, exit_code={self.exit_code!r})"


class OpNotSignedIn(OpError):
    """The token is missing, malformed, expired, revoked or its service account was deleted."""

    default_hint = (
        "The service-account token is missing, invalid, expired or revoked. Create a new token in "
        "1Password and put it in the environment variable named on the account."
    )


class OpNotFound(OpError):
    """The vault, item, user or group does not exist (any more) or is not visible to the token."""

    default_hint = "The object no longer exists or this token cannot see it; the next sync will update the inventory."


class OpPermissionDenied(OpError):
    """The token may not do this (403), e.g. change grants on a vault it did not create."""

    default_hint = (
        "The identity running op lacks permission for this action. Grant the permission, or have "
        "an administrator carry out the step by hand."
    )


class OpRateLimited(OpError):
    """1Password answered 429: the token's hourly or the account's daily budget is spent."""

    retryable = True
    default_hint = (
        "The service-account rate limit is reached. The sync resumes when the limit resets; "
        "`op service-account ratelimit` shows the usage."
    )

    def __init__(
        self,
        message: str,
        *,
        retry_after_seconds: float | None = None,
        exit_code: int | None = None,
        stderr_excerpt: str = "",
        hint: str | None = None,
    ) -> None:
        super().__init__(message, exit_code=exit_code, stderr_excerpt=stderr_excerpt, hint=hint)
        self.retry_after_seconds = retry_after_seconds


class OpConflict(OpError):
    """409: the object changed concurrently; trying again against the new version usually works."""

    retryable = True
    default_hint = "The object changed while op was writing it; the action will be retried."


class OpTimeout(OpError):
    """op did not finish within the configured time."""

    retryable = True
    default_hint = "op did not answer in time. Check the network path to 1Password, or raise OP_TIMEOUT_SECONDS."


class OpStopped(OpError):
    """Not run: the caller stopped (another call of the same sync failed for good) while this one
    waited for a free op slot. Never retried, and never reported in place of that failure."""

    default_hint = "Another op call of this sync failed; see its error."


class OpMalformedOutput(OpError):
    """op printed something we cannot read: not UTF-8, not JSON, or not the expected shape.

    The message names the command and what was wrong, never the output itself.
    """

    default_hint = (
        "op printed output this version of OpenClaw cannot read. Check the op version "
        "(`op --version`); nothing was changed in the inventory."
    )


class OpUnavailable(OpError):
    """The op executable is missing or cannot be executed."""

    default_hint = "Install the 1Password CLI on the worker, or set OP_BIN to its full path."


class OpInvalidArgument(OpError):
    """A value we were about to pass to op is not an op id (or is otherwise unsafe as argv).

    Raised before anything runs, so a hostile title or id can never become a flag.
    """

    default_hint = "An id or value did not come from op in the expected form; nothing was run."


class OpHiddenCharacters(OpInvalidArgument):
    """A value for op holds bidirectional controls or invisible characters (issue #14): what a
    person reads on the approval page would differ from what op runs. `code_points` names them
    (`["U+202E"]`), never the value."""

    default_hint = "Remove the hidden characters (shown as U+XXXX on the page) and propose the change again."

    def __init__(self, message: str, *, code_points: list[str]) -> None:
        super().__init__(message)
        self.code_points = code_points


class OpCommandFailed(OpError):
    """Any other non-zero exit of op."""


# --- classification ---------------------------------------------------------------------------

# Matched against the message with the `[ERROR] date time` prefix removed, lower-cased. Order
# matters: the first matching rule wins. Each pattern cites the op-errors.md text it covers.
_RULES: tuple[tuple[re.Pattern[str], type[OpError]], ...] = (
    # B1 "(429) Too Many Requests: You've reached the maximum number of this type of requests..."
    # and 1Password/solutions' `rate-limited` substring.
    (re.compile(r"\(429\)|too many requests|rate-limited|rate limited"), OpRateLimited),
    (re.compile(r"\(409\)|\bconflict\b"), OpConflict),
    # A: "service account token set, but not authenticated yet", "no account found for filter",
    # "account is not signed in", "You are not currently signed in", "(403) (Forbidden (Service
    # Account Deleted))", "error initializing client: Authentication: ...", and the documented
    # "failed to DecodeSACCredentials" for a malformed token. Checked before 403 because a deleted
    # service account is reported with a 403.
    (
        re.compile(
            r"not authenticated yet|no account found|account is not signed in|"
            r"not currently signed in|service account deleted|decodesaccredentials|"
            r"invalid token|token (?:is )?(?:invalid|expired|revoked)|\(401\)|unauthorized|"
            r"error initializing client: authentication|session expired|no saved device id"
        ),
        OpNotSignedIn,
    ),
    # B3 "(403) Forbidden (Firewall Rule)", B4 "You do not have the requested access to vault".
    (
        re.compile(
            r"\(403\)|forbidden|you do not have (?:the requested )?(?:access|permission)|"
            r"permission denied|not allowed to"
        ),
        OpPermissionDenied,
    ),
    # A: '"X" isn't an item/vault/user/group ...' and "(404) Not Found".
    (re.compile(r"isn't an? (?:item|vault|user|group|document)|\(404\)|not found"), OpNotFound),
    # B5 "read: context deadline exceeded".
    (re.compile(r"context deadline exceeded|i/o timeout|timed out"), OpTimeout),
)

_QUOTED = re.compile(r'"[^"\n]*"')

# "Please retry in 58 minutes", "retry in 30 seconds", "retry in 1 hour".
_RETRY_IN = re.compile(r"retry in (\d+(?:\.\d+)?)\s*(second|sec|s|minute|min|m|hour|h)\w*\b")
_UNIT_SECONDS = {"second": 1, "sec": 1, "s": 1, "minute": 60, "min": 60, "m": 60, "hour": 3600, "h": 3600}


def retry_after_seconds(message: str) -> float | None:
    """Seconds op asked us to wait ("Please retry in 58 minutes"), or None if it did not say."""
    match = _RETRY_IN.search(message.lower())
    if match is None:
        return None
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def classify(exit_code: int | None, stderr: str, *, secrets: tuple[str, ...] = ()) -> OpError:
    """Turn a failed op run into the matching typed error.

    1. Strip op's `[ERROR] date time` prefix and redact anything token-shaped.
    2. Match, outside quoted names first, the first line-group against the rules above (first match wins).
    3. Fall back to OpCommandFailed, keeping the excerpt so nothing is lost.
    `secrets` are extra strings to redact (the runner passes its token).
    """
    excerpt = stderr_excerpt(stderr, secrets=secrets)
    text = strip_error_prefix(stderr).lower()
    # A Go panic (exit 2) with a service-account token set is how op 2.18 reported a corrupt
    # token (op-errors.md, svc-acct-corrupt); anything else panicking is a plain failure.
    if "panic:" in text and "satoken" in text.replace("_", ""):
        return OpNotSignedIn(
            "op crashed while reading the service-account token (corrupt token?)",
            exit_code=exit_code,
            stderr_excerpt=excerpt,
        )
    # The rules match op's words outside quotes first: op quotes names ('"Unauthorized vendors"
    # vault', '"Rate limited keys"'), which are data, and a vanished item in such a vault must not
    # read as a sign-in failure. Only when nothing matches there, the whole text: op also quotes
    # whole messages ('Couldn't issue the token: "... You do not have the requested access ..."').
    matched = next((error_class for candidate in (_QUOTED.sub('""', text), text)
                    for pattern, error_class in _RULES if pattern.search(candidate)), None)  # fmt: skip
    if matched is OpRateLimited:
        first_line = excerpt.splitlines()[0] if excerpt else ""
        return OpRateLimited(f"op failed (exit {exit_code}): {first_line}", retry_after_seconds=retry_after_seconds(text),
                             exit_code=exit_code, stderr_excerpt=excerpt)  # fmt: skip
    if matched is not None:
        first_line = excerpt.splitlines()[0] if excerpt else ""
        return matched(f"op failed (exit {exit_code}): {first_line}", exit_code=exit_code, stderr_excerpt=excerpt)
    first_line = excerpt.splitlines()[0] if excerpt else "(no error text)"
    return OpCommandFailed(f"op failed (exit {exit_code}): {first_line}", exit_code=exit_code, stderr_excerpt=excerpt)
