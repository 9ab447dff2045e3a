"""An `op` client configured from Django settings: the one place the worker's settings meet
`vaults/op/` (which knows nothing of Django). The token comes from the caller, read from the
environment variable an account or identity names; it is never stored."""

from __future__ import annotations

from django.conf import settings

from vaults.op import OpClient


def op_client(token: str, *, max_in_flight: int | None = None) -> OpClient:
    """`max_in_flight`: op processes at once for this client (a sync's OP_CONCURRENCY)."""
    return OpClient(
        op_bin=settings.OP_BIN,
        token=token,
        timeout=settings.OP_TIMEOUT_SECONDS,
        max_retries=settings.OP_MAX_RETRIES,
        fingerprint_key=settings.FINGERPRINT_KEY.encode(),
        max_in_flight=max_in_flight,
    )
