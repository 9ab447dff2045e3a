"""Vault permissions as people write them: `view_and_copy_passwords` → "View and copy passwords".

`op` prints machine names; pages, PDFs and workbooks show these labels instead, so an auditor
reads the same words as in 1Password's own vault settings. The names come from 1Password's
"About vault permissions" (see vaults/access.py); a name this list does not know yet (a new
permission) still reads as words, never as an underscore identifier.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

PERMISSION_LABELS: dict[str, str] = {
    # Teams accounts (and op 2.6): three broad permissions.
    "allow_viewing": "Allow viewing",
    "allow_editing": "Allow editing",
    "allow_managing": "Allow managing",
    # Business accounts: granular permissions.
    "view_items": "View items",
    "view_and_copy_passwords": "View and copy passwords",
    "view_item_history": "View item history",
    "create_items": "Create items",
    "edit_items": "Edit items",
    "archive_items": "Archive items",
    "delete_items": "Delete items",
    "import_items": "Import items",
    "export_items": "Export items",
    "copy_and_share_items": "Copy and share items",
    "print_items": "Print items",
    "manage_vault": "Manage vault",
}


def permission_label(name: str) -> str:
    """The label of one permission; an unknown name in sentence case (`read_secrets` → "Read secrets")."""
    key = name.strip().lower()
    if key in PERMISSION_LABELS:
        return PERMISSION_LABELS[key]
    words = key.replace("_", " ").replace("-", " ").split()
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def permission_labels(names: Iterable[str]) -> list[str]:
    """Labels of several permissions, in 1Password's order (the order of PERMISSION_LABELS), unknown ones last."""
    order = {name: index for index, name in enumerate(PERMISSION_LABELS)}
    keys = sorted({str(n).strip().lower() for n in names if str(n).strip()}, key=lambda k: (order.get(k, len(order)), k))
    return [permission_label(k) for k in keys]


def permissions_text(names: Iterable[str]) -> str:
    """One cell of a report: "View items, Edit items"."""
    return ", ".join(permission_labels(names))


_KNOWN_NAME = re.compile(r"\b(" + "|".join(sorted(PERMISSION_LABELS, key=len, reverse=True)) + r")\b")


def readable_permission_names(text: str) -> str:
    """Known permission names inside a sentence ("elevated direct rights: manage_vault") as their labels."""
    return _KNOWN_NAME.sub(lambda m: PERMISSION_LABELS[m.group(1)], text)
