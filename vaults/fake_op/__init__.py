"""A fake 1Password: an `op`-compatible executable, an Events API server and a demo organisation.

Run it as `bin/fake-op ...` (set `OP_BIN` to that path) or `python -m vaults.fake_op ...`. It never
imports Django, so one call costs a Python start-up plus one JSON load.

Commands (global `--format json` / `--account X` accepted anywhere and ignored):
  whoami · vault list · vault get <vault> · item list --vault <v> [--include-archive] ·
  item get <item> [--vault <v>] [--reveal] · item get - [--vault <v>] [--reveal] (the items on
  stdin as `item list` prints them; each item's JSON printed in turn: batch.py) · user list ·
  group list · vault user list <v> · vault group list <v> · group user list <group> · service-account ratelimit ·
  item edit <item> --vault <v> [--title T] [--tags a,b] [--url U] [--generate-password[=recipe]] ·
  item move <item> --current-vault <v> --destination-vault <v2> · item delete <item> --vault <v>
  --archive · vault user revoke --vault V --user U --permissions p1,p2 ·
  vault group revoke --vault V --group G --permissions p1,p2

Environment:
  FAKE_OP_ACCOUNT                  path of the account file (format: vaults/fake_op/account.py)
  OP_SERVICE_ACCOUNT_TOKEN         checked against the file's `tokens` (missing, malformed,
                                   unknown, revoked and expired tokens fail like real op)
  FAKE_OP_CALL_LOG                 append one JSON line per call (see calllog.py)
  FAKE_OP_NOW                      pin the clock (ISO 8601) for updated_at stamps and expiry checks
  FAKE_OP_START_MS                 sleep this long once per process (op's start-up and sign-in)
  FAKE_OP_LATENCY_MS               sleep this long per request: once per call, N times (one after
                                   another: no concurrency inside op is modelled) for a batch
                                   `item get -` of N items
  FAKE_OP_RATE_LIMIT_AFTER=N       requests after the Nth in a window fail with op's 429 text (one
                                   per call; a batch counts one per item and can be cut midway)
  FAKE_OP_RATE_LIMIT_RESET_SECONDS length of that window (default 3600)
  FAKE_OP_FAIL_CALL=N              the Nth call (counted across processes) fails with a 500
  FAKE_OP_FAIL_COMMAND="item get"  that command fails with a 500 ("*" = every command) ...
  FAKE_OP_FAIL_TIMES=k             ... only its first k calls
  FAKE_OP_MALFORMED="item list"    print that command's JSON cut in half (exit 0)
  FAKE_OP_NON_UTF8="item get"      put bytes that are not UTF-8 into that command's output
  FAKE_OP_HANG="item get"          that command sleeps forever (for timeout tests)
  FAKE_OP_CONFLICT_TIMES=k         the first k writes fail with a 409 Conflict
  FAKE_OP_BATCH_ON_ERROR=stop      a batch stops at its first missing item (default: skips it,
                                   prints the rest, exits 1; see batch.py)
The fault knobs naming "item get" apply to a batch `item get -` as a whole (FAIL_COMMAND fails
it, MALFORMED cuts its whole output in half, NON_UTF8 spoils its first value, HANG hangs it).

The call counter shared by all processes lives in `<account file>.calls`
(`knobs.read_counter(path)`: `calls`, `requests`, `per_command`, `per_command_requests`; a batch
is one call and N requests); the call log is read with `calllog.read_call_log` / `count_calls`
(a batch's line lists the ids it read from stdin under `items`).
"""
