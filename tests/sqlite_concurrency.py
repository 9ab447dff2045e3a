"""Two threads writing the audit log at once on SQLite, as a background task and a request do in
the demo. Each entry reads the chain's head and then inserts after it, inside one transaction:
with SQLite's default (deferred) transactions both threads read, then one fails to upgrade its lock
with "database is locked" (SQLite does not wait there). Prints one JSON line: errors, entries, and
whether the chain verifies. Run by tests/openclaw_web/test_background.py."""

from __future__ import annotations

import json
import os
import threading

import django

THREADS = 2
ENTRIES_EACH = 25


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openclaw_web.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    from compliance import audit
    from compliance.models import AuditLogEntry

    assert connection.vendor == "sqlite", connection.vendor
    call_command("migrate", verbosity=0)
    errors: list[str] = []
    start = threading.Barrier(THREADS)

    def write(name: str) -> None:
        try:
            start.wait()
            for n in range(ENTRIES_EACH):
                audit.record("test.concurrent", actor_label=name, details={"n": n})
        except Exception as error:
            errors.append(f"{type(error).__name__}: {error}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(f"writer-{i}",)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = audit.verify_chain()
    entries = AuditLogEntry.objects.filter(action="test.concurrent").count()
    print(json.dumps({"errors": errors, "entries": entries, "chain_ok": report.ok}))


if __name__ == "__main__":
    main()
