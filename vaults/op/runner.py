"""`OpClient`: runs `op`, retries what is worth retrying, counts calls and requests.

How one call goes:
1. `commands.py` builds the argv (ids validated, `--format json` first).
2. `op` runs with `subprocess.run([...])` (no shell), a timeout, and a minimal environment:
   PATH, HOME, LANG, what `op` needs to reach 1Password from a real network (proxies, CA bundle,
   config and cache directories: `OP_ENVIRONMENT`), the token in `OP_SERVICE_ACCOUNT_TOKEN`
   (never in argv) and any `FAKE_OP_*` variables (so the fake op used by tests and the demo sees
   its configuration). Nothing else leaks in: no DATABASE_URL, SECRET_KEY, FINGERPRINT_KEY or
   other tokens of this process, and no OP_CONNECT_* (which would take precedence over the token).
   stdin is /dev/null, except for a batch read, which gets its item list there (`item_get_batch`).
3. A non-zero exit becomes a typed `OpError` (`errors.classify`); stdout goes to a parser.
4. Retryable errors are retried with exponential backoff and full jitter. Writes are retried only
   when op says the request was refused (429, 409), never after a timeout: a timed-out write may
   have happened, and `item move` or `--generate-password` must not run twice.

Logging names the command, ids, attempt, duration and exit code: never the token, never stdout.
"""

from __future__ import annotations

import logging
import os
import random
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from typing import TypeVar

from vaults.op import commands, parse
from vaults.op.commands import OpCommand
from vaults.op.errors import (
    OpError,
    OpInvalidArgument,
    OpMalformedOutput,
    OpNotFound,
    OpNotSignedIn,
    OpRateLimited,
    OpStopped,
    OpTimeout,
    OpUnavailable,
    classify,
)
from vaults.op.fingerprint import KnownScores
from vaults.op.records import (
    GroupMember,
    GroupRecord,
    ItemBatch,
    ItemDetail,
    ItemSummary,
    RateLimitRow,
    UserRecord,
    VaultGroupGrant,
    VaultRecord,
    VaultUserGrant,
    WhoAmI,
)

logger = logging.getLogger("vaults.op")

T = TypeVar("T")

TOKEN_VARIABLE = "OP_SERVICE_ACCOUNT_TOKEN"  # noqa: S105 (a variable name, not a token)
PASSTHROUGH_PREFIX = "FAKE_OP_"
# What `op` reads from its environment to work behind a corporate proxy, with a private CA, or
# with its config/cache elsewhere (op is a Go program: proxies in either case, SSL_CERT_*).
OP_ENVIRONMENT = frozenset({
    "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy",
    "SSL_CERT_FILE", "SSL_CERT_DIR",
    "OP_CONFIG_DIR", "XDG_CONFIG_HOME", "OP_CACHE", "TMPDIR", "OP_ACCOUNT",
})
# Backoff: attempt n sleeps uniform(0, min(cap, base * 2**n)) ("full jitter": spreads retries
# of concurrent workers instead of having them collide again).
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 30.0
# A rate limit asking for more than this is not slept through: the hourly window can be ~an hour
# away, and a worker asleep that long is a stuck sync. The caller records "waiting until" instead.
MAX_RATE_LIMIT_WAIT_SECONDS = 60.0
# Failures about the token, the budget or the executable, not about one item: a batch read raises
# them as a single read would, instead of retrying each of its items alone.
SESSION_ERRORS: tuple[type[OpError], ...] = (OpRateLimited, OpNotSignedIn, OpUnavailable)
# A batch of N reads by ID makes N requests one after another: it gets OP_TIMEOUT_SECONDS (which
# covers op's start-up and sign-in as well as the request) plus a tenth of it for each item after
# the first, up to 3.4x (what 25 items get). A batch that still times out is not retried whole: its
# items are read alone, each with the plain timeout and retries, so a slow op degrades to single
# reads and a hung one fails as before, within a few timeouts (tests/reliability/test_op_hang.py).
# The cap bounds how long one hung batch holds an op slot however large OP_ITEM_BATCH is (204 s
# for 100 items is still 2 s a request), and what a slow batch printed before its timeout is kept.
# The sync's heartbeat does not depend on it: the sync records one every minute it waits for op
# (vaults/sync_pool.py `results`), so a sync waiting on a hung op never looks abandoned.
BATCH_TIMEOUT_SHARE_PER_ITEM = 0.1
BATCH_TIMEOUT_MAX_FACTOR = 3.4


def minimal_env(
    token: str, *, source: dict[str, str] | None = None, token_variable: str = TOKEN_VARIABLE
) -> dict[str, str]:
    """The child's whole environment: PATH, HOME, LANG, `OP_ENVIRONMENT`, FAKE_OP_*, the token."""
    source = dict(os.environ) if source is None else source
    env = {
        "PATH": source.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": source.get("HOME") or os.path.expanduser("~"),
        "LANG": source.get("LANG", "C.UTF-8"),
    }
    env.update({k: v for k, v in source.items() if k in OP_ENVIRONMENT or k.startswith(PASSTHROUGH_PREFIX)})
    env[token_variable] = token
    return env


class OpClient:
    """One identity (token) talking to one 1Password account through `op`.

    Thread-safe: calls may run concurrently from a bounded pool; `calls` and `requests` are
    updated under a lock. `requests` counts 1Password API requests (each attempt's documented
    cost), the unit the rate limits are in.
    """

    def __init__(
        self,
        *,
        op_bin: str,
        token: str,
        timeout: float,
        max_retries: int,
        fingerprint_key: bytes,
        sleep: Callable[[float], None] = time.sleep,
        token_variable: str = TOKEN_VARIABLE,
        random_uniform: Callable[[float, float], float] = random.uniform,
        max_in_flight: int | None = None,
    ) -> None:
        if not token:
            raise OpNotSignedIn(f"no token: the environment variable for {token_variable} is empty")
        if not fingerprint_key:
            raise ValueError("fingerprint_key must not be empty")
        self._op_bin = op_bin
        self._token = token
        self._timeout = timeout
        self._max_retries = max(0, max_retries)
        self._fingerprint_key = fingerprint_key
        self._sleep = sleep
        self._token_variable = token_variable
        self._uniform = random_uniform
        self._lock = threading.Lock()
        self._calls = 0
        self._requests = 0
        # At most this many op processes at once, however many threads call: a caller can give
        # parsing (zxcvbn, ~13 ms of CPU per secret, serialised) its own threads while every op
        # slot stays busy (bench/bench_sync.py). None: as many as callers.
        self._in_flight = threading.BoundedSemaphore(max_in_flight) if max_in_flight else None
        self._stop: threading.Event | None = None

    def __repr__(self) -> str:
        return f"OpClient(op_bin={self._op_bin!r}, calls={self.calls}, requests={self.requests})"

    @property
    def calls(self) -> int:
        """op processes started (every attempt)."""
        with self._lock:
            return self._calls

    @property
    def requests(self) -> int:
        """1Password API requests spent, by the commands' documented or estimated costs."""
        with self._lock:
            return self._requests

    # --- running ------------------------------------------------------------------------------

    def _run_once(self, command: OpCommand, attempt: int) -> tuple[bytes, OpError | None]:
        """One attempt: op's stdout and its failure (None on success). Never raises for a
        failure of op itself, so a batch can keep what op printed before an item failed.
        Waits for one of the `max_in_flight` slots first; parsing happens after it is given back.
        Raises OpStopped instead of starting op once the `stop_when` event is set."""
        with self._in_flight or nullcontext():
            if self._stop is not None and self._stop.is_set():
                raise OpStopped(f"`op {command.name}` not started: the caller stopped")
            return self._attempt(command, attempt)

    def stop_when(self, event: threading.Event) -> None:
        """From the moment `event` is set, no new op process starts: a call waiting for a slot (or
        its next attempt) raises OpStopped. The sync sets it when one of its calls failed for
        good, so its other threads do not run one hanging op after another (vaults/sync_pool.py)."""
        self._stop = event

    def _attempt(self, command: OpCommand, attempt: int) -> tuple[bytes, OpError | None]:
        argv = command.argv(self._op_bin)
        if any(self._token in arg for arg in argv):
            raise OpInvalidArgument(f"refusing to run `op {command.name}`: an argument contains the token")
        with self._lock:
            self._calls += 1
            self._requests += command.request_cost
        started = time.monotonic()
        failure: OpError | None = None
        exit_code: int | None = None
        stdout = b""
        timeout = self._timeout_for(command)
        try:
            completed = subprocess.run(
                argv,
                env=minimal_env(self._token, token_variable=self._token_variable),
                timeout=timeout,
                capture_output=True,
                # `input=` feeds a batch's item list (commands.item_get_batch); everything else
                # gets no stdin, so op can never block waiting for a terminal.
                input=command.stdin,
                stdin=subprocess.DEVNULL if command.stdin is None else None,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            failure = OpTimeout(f"`op {command.name}` did not finish within {timeout:g} s")
            if command.partial_output and isinstance(exc.stdout, bytes):
                stdout = exc.stdout  # the items a slow batch printed in time count; the rest are read alone
        except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
            failure = OpUnavailable(f"cannot run op at {self._op_bin!r}: {type(exc).__name__}")
        except OSError as exc:
            failure = OpUnavailable(f"cannot run op at {self._op_bin!r}: {type(exc).__name__} (errno {exc.errno})")
        else:
            exit_code = completed.returncode
            stdout = completed.stdout
            if exit_code != 0:
                stderr = completed.stderr.decode("utf-8", errors="replace")
                failure = classify(exit_code, stderr, secrets=(self._token,))
        duration = time.monotonic() - started
        # Every call at DEBUG (a full sync makes hundreds); failures at INFO.
        logger.log(
            logging.INFO if failure else logging.DEBUG,
            "op %s ids=%s attempt=%d exit=%s duration=%.3fs%s",
            command.name,
            ",".join(command.ids) or "-",
            attempt,
            exit_code,
            duration,
            f" error={type(failure).__name__}" if failure else "",
        )
        return stdout, failure

    def _backoff(self, attempt: int) -> float:
        return self._uniform(0.0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt))

    def _timeout_for(self, command: OpCommand) -> float:
        if not command.partial_output:
            return self._timeout
        factor = 1 + max(command.request_cost - 1, 0) * BATCH_TIMEOUT_SHARE_PER_ITEM
        return self._timeout * min(factor, BATCH_TIMEOUT_MAX_FACTOR)

    def _retry_wait(self, command: OpCommand, error: OpError, attempt: int) -> float | None:
        """Seconds to sleep before trying `command` again, or None when it must not be retried."""
        if not error.retryable or attempt >= self._max_retries:
            return None
        wait = self._backoff(attempt)
        if isinstance(error, OpRateLimited) and error.retry_after_seconds is not None:
            if error.retry_after_seconds > MAX_RATE_LIMIT_WAIT_SECONDS:
                return None
            wait = max(wait, error.retry_after_seconds)
        if isinstance(error, OpTimeout) and (command.is_write or command.partial_output):
            return None  # a write may have happened; a batch's items are read alone instead
        return wait

    def run(self, command: OpCommand) -> bytes:
        """Run `command`, retrying retryable failures; return stdout bytes.

        1. Run; success returns stdout.
        2. Not retryable, or retries used up: raise.
        3. A rate limit asking for > MAX_RATE_LIMIT_WAIT_SECONDS: raise at once.
        4. A timeout of a write: raise (the write may have happened).
        5. Sleep max(backoff with full jitter, the retry-after op asked for) and go to 1.
        A batch read (`command.partial_output`) that failed for good returns what op printed
        instead of raising, unless the failure is about the session (`SESSION_ERRORS`).
        """
        attempt = 0
        while True:
            stdout, error = self._run_once(command, attempt)
            if error is None:
                return stdout
            wait = self._retry_wait(command, error, attempt)
            if wait is None:
                if command.partial_output and not isinstance(error, SESSION_ERRORS):
                    # A batch where op failed some items: keep what it printed; the caller
                    # fetches the items missing from it one by one, and those calls say why.
                    return stdout
                raise error
            logger.warning(
                "op %s ids=%s: %s, retrying in %.1fs (retry %d of %d)",
                command.name,
                ",".join(command.ids) or "-",
                type(error).__name__,
                wait,
                attempt + 1,
                self._max_retries,
            )
            self._sleep(wait)
            attempt += 1

    def _parsed(self, command: OpCommand, parser: Callable[[bytes], T]) -> T:
        return parser(self.run(command))

    # --- reads --------------------------------------------------------------------------------

    def whoami(self) -> WhoAmI:
        return self._parsed(commands.whoami(), parse.parse_whoami)

    def vault_list(self) -> tuple[VaultRecord, ...]:
        return self._parsed(commands.vault_list(), parse.parse_vault_list)

    def vault_get(self, vault_id: str) -> VaultRecord:
        return self._parsed(commands.vault_get(vault_id), parse.parse_vault_get)

    def item_list(self, vault_id: str, include_archive: bool = False) -> tuple[ItemSummary, ...]:
        return self._parsed(commands.item_list(vault_id, include_archive=include_archive), parse.parse_item_list)

    def item_get(self, item_id: str, vault_id: str, *, known_scores: KnownScores | None = None) -> ItemDetail:
        stdout = self.run(commands.item_get(item_id, vault_id))
        return parse.parse_item_get(stdout, fingerprint_key=self._fingerprint_key, known_scores=known_scores)

    def item_get_batch(
        self, item_ids: Sequence[str], vault_id: str, *, known_scores: KnownScores | None = None
    ) -> ItemBatch:
        """The details of several items of one vault through one `op item get -` process.

        1. One item: a plain `item get` (nothing to save, and it is what OP_ITEM_BATCH=1 means).
        2. Otherwise one batch call, with OP_TIMEOUT_SECONDS and a tenth more for each item after
           the first; rate limits and sign-in failures are raised exactly as for a single call
           (`run`); a batch that times out is read item by item (step 5).
        3. The output is read as a stream of items (`parse.parse_item_get_stream`); only items
           asked for, of this vault, count, the first copy of each.
        4. A failure worth retrying (a short rate limit cutting the batch in the middle) is waited
           out as `run` would, and only the items not read yet are asked for again: each request
           is spent once.
        5. Every item asked for and not returned (op failed it, printed fewer, or printed
           something unreadable) is fetched alone: a vanished item is OpNotFound there and lands
           in `vanished`; any other error of that call is raised, as it would be without batches.
           What a single `item get <id>` prints is taken as that item, as `item_get` does.
        `known_scores` (`fingerprint.KnownScores`) spares zxcvbn for values already scored.
        """
        wanted = tuple(dict.fromkeys(item_ids))
        if len(wanted) == 1:
            try:
                return ItemBatch(details={wanted[0]: self.item_get(wanted[0], vault_id, known_scores=known_scores)})
            except OpNotFound:
                return ItemBatch(details={}, vanished=wanted)
        found, problems = self._read_batch(wanted, vault_id, known_scores)
        missing = [item_id for item_id in wanted if item_id not in found]
        if missing or problems:
            logger.info(
                "op item get - vault=%s: %d of %d items returned, fetching %d alone%s",
                vault_id, len(found), len(wanted), len(missing),
                f"; {'; '.join(problems)[:500]}" if problems else "",
            )  # fmt: skip
        vanished: list[str] = []
        for item_id in missing:
            try:
                found[item_id] = self.item_get(item_id, vault_id, known_scores=known_scores)
            except OpNotFound:
                vanished.append(item_id)
        return ItemBatch(
            details={i: found[i] for i in wanted if i in found}, vanished=tuple(vanished), refetched=len(missing)
        )

    def _read_batch(
        self, wanted: tuple[str, ...], vault_id: str, known_scores: KnownScores | None
    ) -> tuple[dict[str, ItemDetail], list[str]]:
        """Steps 2-4 of `item_get_batch`: the items op printed, by id, and the parser's problems.
        A session failure (`SESSION_ERRORS`) that is not retried is raised before anything
        printed is parsed: the caller keeps nothing of a run that stops here."""
        found: dict[str, ItemDetail] = {}
        problems: list[str] = []
        pending = wanted
        attempt = 0
        while True:
            command = commands.item_get_batch(pending, vault_id)
            stdout, error = self._run_once(command, attempt)
            wait = None if error is None else self._retry_wait(command, error, attempt)
            if error is not None and wait is None and isinstance(error, SESSION_ERRORS):
                raise error
            stream = parse.parse_item_get_stream(stdout, fingerprint_key=self._fingerprint_key, known_scores=known_scores)
            problems.extend(stream.problems)
            for detail in stream.details:
                if detail.summary.id in pending and detail.summary.vault_id == vault_id:
                    found.setdefault(detail.summary.id, detail)
            pending = tuple(item_id for item_id in pending if item_id not in found)
            if error is None or wait is None or not pending:
                return found, problems
            logger.warning(
                "op %s ids=%s: %s after %d of %d items, retrying the other %d in %.1fs (retry %d of %d)",
                command.name, vault_id, type(error).__name__, len(command.ids) - 1 - len(pending),
                len(command.ids) - 1, len(pending), wait, attempt + 1, self._max_retries,
            )  # fmt: skip
            self._sleep(wait)
            attempt += 1

    def user_list(self) -> tuple[UserRecord, ...]:
        return self._parsed(commands.user_list(), parse.parse_user_list)

    def group_list(self) -> tuple[GroupRecord, ...]:
        return self._parsed(commands.group_list(), parse.parse_group_list)

    def vault_user_list(self, vault_id: str) -> tuple[VaultUserGrant, ...]:
        return self._parsed(commands.vault_user_list(vault_id), parse.parse_vault_user_list)

    def vault_group_list(self, vault_id: str) -> tuple[VaultGroupGrant, ...]:
        return self._parsed(commands.vault_group_list(vault_id), parse.parse_vault_group_list)

    def group_user_list(self, group_id: str) -> tuple[GroupMember, ...]:
        return self._parsed(commands.group_user_list(group_id), parse.parse_group_user_list)

    def ratelimit(self) -> tuple[RateLimitRow, ...]:
        return self._parsed(commands.service_account_ratelimit(), parse.parse_ratelimit)

    # --- writes -------------------------------------------------------------------------------

    def _edited(self, command: OpCommand) -> ItemSummary:
        stdout = self.run(command)
        try:
            return parse.parse_item_summary(stdout, command=command.name)
        except OpMalformedOutput as error:
            # Raised outside the except block of the parser; keep ours unchained too.
            message = f"{error.message}; op exited 0, so the change was probably made"
        raise OpMalformedOutput(message, hint="The next sync shows whether the change was made.")

    def edit_title(self, item_id: str, vault_id: str, title: str) -> ItemSummary:
        return self._edited(commands.item_edit_title(item_id, vault_id, title))

    def edit_tags(self, item_id: str, vault_id: str, tags: Iterable[str]) -> ItemSummary:
        return self._edited(commands.item_edit_tags(item_id, vault_id, tags))

    def edit_url(self, item_id: str, vault_id: str, url: str) -> ItemSummary:
        return self._edited(commands.item_edit_url(item_id, vault_id, url))

    def generate_password(self, item_id: str, vault_id: str, recipe: str = "letters,digits,symbols,32") -> ItemSummary:
        """Replace the item's password with a generated one. The new value is in op's stdout;
        only the item head is parsed and the bytes are dropped here."""
        return self._edited(commands.item_generate_password(item_id, vault_id, recipe))

    def move_item(self, item_id: str, *, current_vault_id: str, destination_vault_id: str) -> str:
        """Move an item; returns its NEW id (op re-creates the item in the destination vault)."""
        summary = self._edited(
            commands.item_move(item_id, current_vault_id=current_vault_id, destination_vault_id=destination_vault_id)
        )
        return summary.id

    def archive_item(self, item_id: str, vault_id: str) -> None:
        self.run(commands.item_archive(item_id, vault_id))

    def revoke_user(self, vault_id: str, user_id: str, permissions: Iterable[str]) -> None:
        self.run(commands.vault_user_revoke(vault_id, user_id, permissions))

    def revoke_group(self, vault_id: str, group_id: str, permissions: Iterable[str]) -> None:
        self.run(commands.vault_group_revoke(vault_id, group_id, permissions))

    def remove_group_member(self, group_id: str, user_id: str) -> None:
        self.run(commands.group_user_revoke(group_id, user_id))
