from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from compliance.alerts.models import AlertChannel, AlertRule


def make_channel(*, kind: str = AlertChannel.Kind.WEBHOOK, url: str = "http://127.0.0.1:9/hook", **fields: Any) -> AlertChannel:
    defaults: dict[str, Any] = {"name": f"{kind} channel", "secret_env": "ALERT_HOOK_KEY" if kind == "webhook" else ""}
    if kind == AlertChannel.Kind.EMAIL:
        defaults.update(recipients=["sec@example.com"], secret_env="")
        url = ""
    return AlertChannel.objects.create(kind=kind, url=url, **{**defaults, **fields})


def make_rule(*, kind: str, channels: list[AlertChannel] = (), created_at: datetime.datetime | None = None,  # type: ignore[assignment]
              **fields: Any) -> AlertRule:  # fmt: skip
    rule = AlertRule.objects.create(name=fields.pop("name", f"{kind} rule"), kind=kind,
                                    created_at=created_at or timezone.now(), **fields)  # fmt: skip
    rule.channels.set(channels)
    return rule
