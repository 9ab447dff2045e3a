from __future__ import annotations

import socket

from celery import shared_task
from django.utils import timezone


@shared_task(name="openclaw_web.tasks.health_check_task")
def health_check_task() -> dict[str, str]:
    """Answered by a live worker: the Sync page and `make test` use it to prove the queue works."""
    return {"worker": socket.gethostname(), "at": timezone.now().isoformat()}
