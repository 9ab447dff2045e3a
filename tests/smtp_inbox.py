"""A real SMTP server (aiosmtpd) on 127.0.0.1 with Django's SMTP backend pointed at it: the mail
tests of reports, alerts and break-glass all deliver through the same one."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

from aiosmtpd.controller import Controller


class Inbox:
    """Every message received, as (sender, recipients, raw bytes)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def smtp_server(settings: Any, inbox: Any = None) -> Iterator[Any]:
    """Yield `inbox` (an `Inbox` unless another aiosmtpd handler is given) while the server runs."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    handler = Inbox() if inbox is None else inbox
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    try:
        yield handler
    finally:
        controller.stop()
