"""Op-shaped demo items: one builder per category, every secret a fresh canary.

A canary is `CANARY-<16 hex>-<10 alphanumerics>`; it appears verbatim inside the value it stands
for (a password is the canary itself, a private key or a note contains it).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from vaults.fake_op.account import format_ts

Row = dict[str, Any]
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


class Canaries:
    """Deterministic, never-repeating canary strings."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.issued: set[str] = set()

    def new(self) -> str:
        while True:
            value = f"CANARY-{self.rng.getrandbits(64):016x}-{''.join(self.rng.choices(_ALNUM, k=10))}"
            if value not in self.issued:
                self.issued.add(value)
                return value


def _notes(canaries: Canaries, purpose: str) -> Row:
    return {
        "id": "notesPlain",
        "type": "STRING",
        "purpose": "NOTES",
        "label": "notesPlain",
        "value": f"{purpose} Internal reference {canaries.new()}.",
    }


def _password_field(
    rng: random.Random,
    value: str,
    *,
    field_id: str = "password",
    history: list[str] | None = None,
    strength: str | None = None,
) -> Row:
    entropy = round(rng.uniform(110, 190), 5)
    details: Row = {
        "entropy": int(entropy),
        "generated": True,
        "strength": strength or rng.choice(["FANTASTIC", "EXCELLENT", "VERY_GOOD"]),
    }
    if history:
        details["history"] = history
    return {
        "id": field_id,
        "type": "CONCEALED",
        "purpose": "PASSWORD",
        "label": "password",
        "value": value,
        "entropy": entropy,
        "password_details": details,
    }


def _string(field_id: str, label: str, value: str, section: Row | None = None) -> Row:
    row: Row = {"id": field_id, "type": "STRING", "label": label, "value": value}
    if section:
        row = {"id": field_id, "section": section, "type": "STRING", "label": label, "value": value}
    return row


def build_item(
    rng: random.Random, canaries: Canaries, *, category: str, service: str, domain: str, env_word: str, now: datetime
) -> Row:
    """Fields, sections, urls and additional_information of one normal item (no ids, no dates)."""
    slug = service.lower().replace(" ", "-")
    env_slug = env_word.lower()
    purpose = f"Owned by the {service} integration owners; rotate per policy."
    item: Row = {"urls": [], "sections": [], "fields": []}
    if category == "LOGIN":
        username = f"{slug}-{env_slug}-admin@acme-demo.example"
        history = [canaries.new() for _ in range(rng.choice([0, 0, 1, 2]))]
        item["fields"] = [
            {"id": "username", "type": "STRING", "purpose": "USERNAME", "label": "username", "value": username},
            _password_field(rng, canaries.new(), history=history),
            _notes(canaries, purpose),
        ]
        if rng.random() < 0.25:
            item["sections"] = [{"id": "add more"}]
            item["fields"].append(
                {
                    "id": f"TOTP_{rng.getrandbits(40):010x}",
                    "section": {"id": "add more"},
                    "type": "OTP",
                    "label": "one-time password",
                    "value": canaries.new(),
                    "totp": f"{rng.randrange(10**6):06d}",
                }
            )
        item["urls"] = [{"label": "website", "primary": True, "href": f"https://{env_slug}.{domain}/login"}]
        item["additional_information"] = username
    elif category == "PASSWORD":
        item["fields"] = [_password_field(rng, canaries.new()), _notes(canaries, purpose)]
        item["additional_information"] = now.strftime("%Y-%m-%d %I:%M %p")
    elif category == "API_CREDENTIAL":
        expires = now + timedelta(days=rng.randint(120, 700))
        item["fields"] = [
            _notes(canaries, purpose),
            _string("username", "username", f"{slug}-{env_slug}-service"),
            {"id": "credential", "type": "CONCEALED", "label": "credential", "value": canaries.new()},
            {"id": "type", "type": "MENU", "label": "type", "value": "bearer"},
            {"id": "filename", "type": "STRING", "label": "filename"},
            {
                "id": "validFrom",
                "type": "DATE",
                "label": "valid from",
                "value": str(int((now - timedelta(days=rng.randint(30, 400))).timestamp())),
            },
            {"id": "expires", "type": "DATE", "label": "expires", "value": str(int(expires.timestamp()))},
            _string("hostname", "hostname", f"api.{env_slug}.{domain}"),
        ]
        item["additional_information"] = "bearer"
    elif category == "DATABASE":
        host = f"{slug}-db.{env_slug}.acme-demo.internal"
        item["fields"] = [
            _notes(canaries, purpose),
            {"id": "database_type", "type": "MENU", "label": "type", "value": "postgresql"},
            _string("hostname", "server", host),
            _string("port", "port", "5432"),
            _string("database", "database", slug.replace("-", "_")),
            _string("username", "username", f"{slug.replace('-', '_')}_app"),
            {"id": "password", "type": "CONCEALED", "label": "password", "value": canaries.new()},
        ]
        item["additional_information"] = host
    elif category == "SERVER":
        console = {"id": "admin_console", "label": "Admin Console"}
        item["sections"] = [console]
        item["fields"] = [
            _notes(canaries, purpose),
            _string("username", "username", "admin"),
            {"id": "password", "type": "CONCEALED", "label": "password", "value": canaries.new()},
            _string("admin_console_url", "admin console URL", f"https://console.{env_slug}.{domain}", console),
            {
                "id": "admin_console_password",
                "section": console,
                "type": "CONCEALED",
                "label": "console password",
                "value": canaries.new(),
            },
        ]
        item["additional_information"] = "admin"
    elif category == "SSH_KEY":
        fingerprint = "SHA256:" + "".join(rng.choices(_ALNUM, k=43))
        item["fields"] = [
            _notes(canaries, purpose),
            _string(
                "public_key", "public key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5" + "".join(rng.choices(_ALNUM, k=40))
            ),
            _string("fingerprint", "fingerprint", fingerprint),
            {
                "id": "private_key",
                "type": "SSHKEY",
                "label": "private key",
                "value": f"-----BEGIN PRIVATE KEY-----\n{canaries.new()}\n-----END PRIVATE KEY-----\n",
            },
            _string("key_type", "key type", "ed25519"),
        ]
        item["additional_information"] = fingerprint
    elif category == "SECURE_NOTE":
        text = f"Recovery code {canaries.new()} for the {service} {env_word} runbook.\n\nSteps: page on-call first."
        item["sections"] = [{"id": "linked items", "label": "Related Items"}]
        item["fields"] = [
            {"id": "notesPlain", "type": "STRING", "purpose": "NOTES", "label": "notesPlain", "value": text}
        ]
        item["additional_information"] = text.split("\n", 1)[0][:80]
    else:  # pragma: no cover - the catalogue only names the categories above
        raise ValueError(category)
    return item


def stamp(moment: datetime) -> str:
    return format_ts(moment)
