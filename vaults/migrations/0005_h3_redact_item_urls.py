"""Issue #14 item 3: URLs stored before `vaults/op/url_redaction.py` existed may hold credentials
(`https://admin:PASSWORD@db…`, `?token=…`). The next sync does not fix them: it lists only vaults
whose content_version changed, so an unchanged item would keep its credentialed URL for ever.
This migration applies the same redaction to every stored `Item.urls` entry.

It imports the live `redact_url` on purpose: the stored data must end up exactly as a sync
today would store it. Reversing is a no-op (the removed credentials are not kept anywhere).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

from vaults.op.url_redaction import redact_url

BATCH = 500


def _redacted(urls: Any) -> Any:
    if not isinstance(urls, list):
        return urls
    cleaned = []
    for entry in urls:
        if isinstance(entry, dict) and isinstance(entry.get("href"), str):
            entry = {**entry, "href": redact_url(entry["href"])}
        cleaned.append(entry)
    return cleaned


def redact_stored_urls(apps: Any, schema_editor: Any) -> None:
    item_model = apps.get_model("vaults", "Item")
    changed = []
    for item in item_model.objects.only("pk", "urls").order_by("pk").iterator(chunk_size=BATCH):
        cleaned = _redacted(item.urls)
        if cleaned != item.urls:
            item.urls = cleaned
            changed.append(item)
        if len(changed) >= BATCH:
            item_model.objects.bulk_update(changed, ["urls"])
            changed = []
    if changed:
        item_model.objects.bulk_update(changed, ["urls"])


class Migration(migrations.Migration):
    dependencies = [
        ("vaults", "0004_h7_sync_captures"),
    ]

    operations = [
        migrations.RunPython(redact_stored_urls, migrations.RunPython.noop, elidable=True),
    ]
