"""The one way OpenClaw POSTs to an outside system (alert webhooks, Slack, ticket trackers).

Whoever may configure an alert channel or a ticket destination chooses the address, and "Send a
test" shows the answer's status: the address is untrusted input. `post()` therefore:

1. Accepts only http:// and https:// addresses with a host and no user:password part (it would be
   sent as a credential nobody named, and shown wherever the address is).
2. Resolves the host itself and refuses it when ANY of its addresses is link-local or a cloud
   metadata service (169.254.0.0/16, fe80::/10, fd00:ec2::254, the unspecified address, multicast;
   also written as IPv4-mapped IPv6). Private and loopback addresses (an internal Jira, a SIEM
   collector on the same host) are allowed unless settings.OUTBOUND_ALLOW_PRIVATE is False. It then
   connects to the addresses it checked, never resolving again, so a DNS answer that changes
   between the check and the connection (rebinding) cannot slip past.
3. Does not follow redirects: a receiver that moved is re-configured, not followed to wherever a
   3xx points (an internal address, say), which would also re-send the Authorization header.
4. Holds one deadline for the whole exchange (connect, send, headers, every byte of the answer):
   each socket operation waits at most the time left, so a receiver trickling a byte a second is
   cut at the deadline instead of resetting a per-read timeout.
5. Reads at most `max_bytes` of the answer; a larger one is an error, never buffered whole.
6. Ignores the environment's proxy variables (`trust_env=False`): a worker's HTTP_PROXY must not
   silently receive signed bodies or Authorization headers.

It never raises for network trouble or a refused address: the `Answer` says what happened, and
whether trying again later may help.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore
import httpx
from django.conf import settings

REFUSED_PREFIX = "unsafe address"

# Never a legitimate receiver: link-local (the AWS/GCP/Azure/OpenStack metadata services live at
# 169.254.169.254), AWS's IPv6 metadata endpoint, "this host" and multicast.
_ALWAYS_REFUSED = tuple(
    ipaddress.ip_network(net)
    for net in ("169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128", "0.0.0.0/8", "::/128", "224.0.0.0/4", "ff00::/8")
)


class UnsafeAddress(ValueError):
    """An address `post()` refuses to send to; the text says why and names no path or query."""


def refusal_for_ip(address: str, *, allow_private: bool) -> str:
    """Why `address` (an IP literal) may not be connected to, or "" when it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id ("fe80::1%eth0")
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in net for net in _ALWAYS_REFUSED):
        return f"{ip} is link-local or a cloud metadata address"
    if not allow_private and (ip.is_private or ip.is_loopback or ip.is_reserved):
        return f"{ip} is a private or loopback address (OUTBOUND_ALLOW_PRIVATE is off)"
    return ""


def allow_private() -> bool:
    return bool(getattr(settings, "OUTBOUND_ALLOW_PRIVATE", True))


def check_url(url: str) -> None:
    """Raise UnsafeAddress for an address `post()` would refuse without looking it up: scheme, host,
    credentials, and a host written as a refused IP address. Forms call this; `post()` also checks
    every address the host resolves to."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeAddress("Only http:// and https:// addresses are allowed.")
    try:
        httpx.URL(url)  # the sender's own parser: what it cannot parse is refused here, not raised later
    except httpx.InvalidURL as error:
        raise UnsafeAddress(f"The address is not valid: {error}"[:200]) from None
    if not parts.hostname:
        raise UnsafeAddress("The address has no host.")
    if parts.username or parts.password:
        raise UnsafeAddress("The address must not carry a user name or password.")
    try:
        reason = refusal_for_ip(parts.hostname, allow_private=allow_private())
    except ValueError:
        return  # a name, not an IP literal: checked after resolution when sending
    if reason:
        raise UnsafeAddress(f"The address is refused: {reason}.")


def resolve(host: str, port: int, *, allow_private: bool) -> list[tuple[int, str]]:
    """(family, address) of every address `host` resolves to; UnsafeAddress if any is refused
    (a name answering both a public and a metadata address is refused, not half-trusted)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise httpcore.ConnectError(f"cannot resolve the host: {error}") from error
    addresses: list[tuple[int, str]] = []
    for family, _type, _proto, _name, sockaddr in infos:
        address = str(sockaddr[0])
        reason = refusal_for_ip(address, allow_private=allow_private)
        if reason:
            raise UnsafeAddress(f"The host resolves to a refused address: {reason}.")
        if (family, address) not in addresses:
            addresses.append((family, address))
    return addresses


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every operation waits at most until the shared deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self._inner = inner
        self._deadline = deadline

    def _left(self, timeout: float | None, error: type[Exception]) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise error("the total time allowed for the exchange is used up")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, self._left(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(inner, self._deadline)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _GuardedBackend(httpcore.SyncBackend):
    """Resolves and checks the host (step 2 of the module docstring) and bounds every socket
    operation by the deadline (step 4)."""

    def __init__(self, *, deadline: float, allow_private: bool) -> None:
        self._deadline = deadline
        self._allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = resolve(host, port, allow_private=self._allow_private)
        last_error: Exception = httpcore.ConnectError("no address to connect to")
        for _family, address in addresses:
            left = self._deadline - time.monotonic()
            if left <= 0:
                raise httpcore.ConnectTimeout("the total time allowed for the exchange is used up")
            wait = left if timeout is None else min(timeout, left)
            try:
                # An IP literal: the base backend connects without resolving the name again.
                stream = super().connect_tcp(address, port, wait, local_address, socket_options)
            except httpcore.ConnectError as error:
                last_error = error
                continue
            return _DeadlineStream(stream, self._deadline)
        raise last_error


def _transport(*, deadline: float, allow_private: bool) -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport(trust_env=False)
    # httpx builds its connection pool without a way to pass a network backend; the pool reads
    # this attribute for every new connection (httpcore 1.0).
    transport._pool._network_backend = _GuardedBackend(deadline=deadline, allow_private=allow_private)
    return transport


@dataclass(frozen=True)
class Answer:
    status_code: int | None  # None: no HTTP answer (refused address, no connection, timed out, too large)
    body: bytes = b""  # at most max_bytes
    error: str = ""  # names the host and the reason at most, never a header or the body sent
    duration_ms: int = 0

    @property
    def refused(self) -> bool:
        return self.error.startswith(REFUSED_PREFIX)

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retryable(self) -> bool:
        """Worth another attempt later: no answer (but not a refused address), 408/425/429, or a
        server error. Any other 4xx (410 Gone, 401, 404...) and a redirect will not change by waiting."""
        if self.ok:
            return False
        if self.status_code is None:
            return not self.refused
        return self.status_code in (408, 425, 429) or self.status_code >= 500


def post(
    url: str, body: bytes, *, headers: dict[str, str], connect_timeout: float, total_timeout: float, max_bytes: int
) -> Answer:
    """POST `body` to `url` once (see the module docstring). Never raises for network trouble."""
    started = time.monotonic()
    try:
        check_url(url)
    except UnsafeAddress as error:
        return Answer(None, error=f"{REFUSED_PREFIX}: {error}")
    deadline = started + total_timeout
    timeout = httpx.Timeout(total_timeout, connect=connect_timeout)
    try:
        with (
            httpx.Client(transport=_transport(deadline=deadline, allow_private=allow_private()), timeout=timeout,
                         follow_redirects=False, trust_env=False) as client,
            client.stream("POST", url, content=body, headers=headers) as response,
        ):  # fmt: skip
            received = bytearray()
            for chunk in response.iter_bytes():
                received += chunk
                if len(received) > max_bytes:
                    return Answer(None, error=f"the answer was larger than {max_bytes // 1024} kB",
                                  duration_ms=_elapsed(started))  # fmt: skip
            status = response.status_code
            problem = ""
            if response.is_redirect:
                problem = f"redirect to another address refused (HTTP {status})"
            elif not response.is_success:
                problem = f"HTTP {status}"
            return Answer(status, bytes(received), problem, _elapsed(started))
    except UnsafeAddress as error:
        return Answer(None, error=f"{REFUSED_PREFIX}: {error}", duration_ms=_elapsed(started))
    except httpx.TimeoutException:
        return Answer(None, error=f"no complete answer within {total_timeout:g} s", duration_ms=_elapsed(started))
    except (httpx.HTTPError, OSError) as error:
        # The exception's text names the host at most, never the body or the headers.
        return Answer(None, error=f"{type(error).__name__}: {error}"[:300], duration_ms=_elapsed(started))


def _elapsed(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
