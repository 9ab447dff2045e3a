"""An independent reading of docs/findings-rules.md over a raw fake-op account file.

Deliberately written without the generator's code, so the demo's `planted` manifest is checked
against the rules rather than against itself.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import zxcvbn

from vaults.findings.copies import copy_components

GENERIC = {
    "password",
    "api key",
    "token",
    "database",
    "login",
    "secret",
    "admin",
    "credentials",
    "test",
    "new item",
    "untitled",
    "key",
    "server",
}
CONVENTION = re.compile(r"^\S.* (Production|Staging|Development|Test|QA|Shared|Corporate) \S.*$", re.IGNORECASE)
ROTATING = {"API_CREDENTIAL", "DATABASE", "SERVER", "SSH_KEY"}
EXCESS = {"manage_vault", "export_items", "allow_managing"}
SECRET_TYPES = {"CONCEALED", "SSHKEY", "OTP"}


PENDING_STATES = ("RECOVERY_STARTED", "RECOVERY_ACCEPTED", "TRANSFER_STARTED")


def pending_access(data: dict[str, Any]) -> set[str]:
    """People in a pending state who can reach a vault: the engine's low over_permissioned findings."""
    return {u["id"] for u in data["users"] if u["state"] in PENDING_STATES and _reaches_a_vault(data, u["id"])}


def _reaches_a_vault(data: dict[str, Any], user_id: str) -> bool:
    groups = {g["id"] for g in data["groups"] if any(m["user_id"] == user_id for m in g.get("members", []))}
    return any(
        any(g["user_id"] == user_id for g in v["user_grants"]) or any(g["group_id"] in groups for g in v["group_grants"])
        for v in data["vaults"]
    )


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def classify(name: str, vault_type: str) -> str:
    low = name.lower()
    if "prod" in low:
        return "production"
    if any(w in low for w in ("staging", "stage", "dev", "test", "qa", "sandbox")):
        return "non-production"
    if vault_type == "PERSONAL" or any(w in low for w in ("private", "personal", "employee")):
        return "personal"
    if any(w in low for w in ("shared", "corporate", "everyone")):
        return "shared"
    return "unclassified"


def _is_weak(item: dict[str, Any]) -> bool:
    for field in item["fields"]:
        judged = field.get("purpose") == "PASSWORD" or (field["type"] == "CONCEALED" and item["category"] != "LOGIN")
        if not judged:
            continue
        label = field.get("password_details", {}).get("strength", "")
        value = field.get("value")
        if label in ("TERRIBLE", "WEAK"):
            return True
        if value and (len(value) < 12 or zxcvbn.zxcvbn(value[:100])["score"] <= 2):
            return True
    return False


def findings(data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Every finding of the rules: item ids (sets), fingerprint groups (sets of frozensets), user ids."""
    vault_class = {v["id"]: classify(v["name"], v.get("type", "")) for v in data["vaults"]}
    active = [i for i in data["items"] if i.get("state", "ACTIVE") == "ACTIVE"]
    usage = data["events"]["itemusages"]
    last_use: dict[str, datetime] = {}
    for event in usage:
        moment = ts(event["timestamp"])
        last_use[event["item_uuid"]] = max(moment, last_use.get(event["item_uuid"], moment))

    by_value: dict[str, set[str]] = defaultdict(set)
    for item in active:
        for field in item["fields"]:
            if field["type"] in SECRET_TYPES and field.get("value"):
                by_value[field["value"]].add(item["id"])
    item_vault = {i["id"]: i["vault_id"] for i in active}
    same_secret = {frozenset(ids) for ids in by_value.values() if len(ids) > 1}
    across = {
        group for group in same_secret if {vault_class[item_vault[i]] == "production" for i in group} == {True, False}
    }
    # Copies of one credential (same service) are duplicates; one secret behind several services
    # is a reused secret (docs/findings-rules.md, "Duplicate or reused").
    by_id = {i["id"]: i for i in active}
    duplicate: set[frozenset[str]] = set()
    reused: set[frozenset[str]] = set()
    for group in same_secret:
        services = copy_components([by_id[i] for i in sorted(group)])
        duplicate |= {frozenset(i["id"] for i in s) for s in services if len(s) > 1}
        if len(services) > 1:
            reused.add(group)

    result: dict[str, Any] = {"duplicate": duplicate, "reused_secret": reused, "shared_across_environments": across}
    result["weak"] = {i["id"] for i in active if _is_weak(i)}
    result["unclear_name"] = {
        i["id"]
        for i in active
        if vault_class[i["vault_id"]] != "personal"
        and (i["title"].strip().lower() in GENERIC or not CONVENTION.match(i["title"]))
    }
    old = now - timedelta(days=180)
    result["orphaned"] = {
        i["id"]
        for i in active
        if {"deprecated", "decommissioned"} & set(i.get("tags", []))
        or (ts(i["created_at"]) <= old and ts(i["updated_at"]) <= old and last_use.get(i["id"], old) <= old)
    }

    def no_notes(item: dict[str, Any]) -> bool:
        return not any(f.get("purpose") == "NOTES" and f.get("value") for f in item["fields"])

    result["missing_metadata"] = {
        i["id"] for i in active if (i["category"] == "LOGIN" and not i.get("urls")) or not i.get("tags") or no_notes(i)
    }
    overdue, due_soon = set(), set()
    for item in active:
        rotates = (
            item["category"] in ROTATING
            or (item["category"] == "LOGIN" and "service-account" in item.get("tags", []))
            # Shared logins: LOGIN/PASSWORD in production or shared vaults (NIST 800-63B is about
            # one person's own memorised secret, not a credential several people hold).
            or (item["category"] in ("LOGIN", "PASSWORD") and vault_class[item["vault_id"]] in ("production", "shared"))
        )
        if not rotates:
            continue
        period = 90 if vault_class[item["vault_id"]] == "production" else 365
        age = now - ts(item["updated_at"])
        if age > timedelta(days=period):
            overdue.add(item["id"])
        elif age > timedelta(days=period - 30):
            due_soon.add(item["id"])
    result["overdue_rotation"], result["rotation_due_soon"] = overdue, due_soon
    result["expiring"] = {
        i["id"]
        for i in active
        for f in i["fields"]
        if f.get("type") == "DATE"
        and f["id"] == "expires"
        and f.get("value")
        and datetime.fromtimestamp(int(f["value"]), tz=now.tzinfo) <= now + timedelta(days=30)
    }
    result["over_permissioned"] = _over_permissioned(data, now)
    return result


def _over_permissioned(data: dict[str, Any], now: datetime) -> set[str]:
    groups_of: dict[str, set[str]] = defaultdict(set)
    members: dict[str, set[str]] = defaultdict(set)
    for group in data["groups"]:
        for member in group["members"]:
            groups_of[member["user_id"]].add(group["id"])
            members[group["id"]].add(member["user_id"])
    access: dict[str, set[str]] = defaultdict(set)
    direct: dict[str, list[tuple[str, list[str]]]] = defaultdict(list)
    for vault in data["vaults"]:
        for grant in vault["user_grants"]:
            access[grant["user_id"]].add(vault["id"])
            direct[grant["user_id"]].append((vault["id"], grant["permissions"]))
        for grant in vault["group_grants"]:
            for user_id in members[grant["group_id"]]:
                access[user_id].add(vault["id"])
    recent_use = {
        (e["user_uuid"], e["vault_uuid"])
        for e in data["events"]["itemusages"]
        if ts(e["timestamp"]) >= now - timedelta(days=90)
    }
    flagged = set()
    for user in data["users"]:
        uid = user["id"]
        if user["state"] in ("SUSPENDED", "TRANSFER_SUSPENDED", "DELETED") and access[uid]:
            flagged.add(uid)
        if user["state"] in PENDING_STATES and access[uid]:
            flagged.add(uid)  # a low finding of its own ("Access while ..."): see pending_access()
        if any(EXCESS & set(perms) for _, perms in direct[uid]):
            flagged.add(uid)
        if user["type"] == "SERVICE_ACCOUNT":
            continue
        peers = (
            [u for u in data["users"] if u["id"] != uid and groups_of[u["id"]] & groups_of[uid]]
            if groups_of[uid]
            else [u for u in data["users"] if u["id"] != uid]
        )
        median = statistics.median([len(access[p["id"]]) for p in peers])
        if len(access[uid]) > max(2 * median, median + 5):
            flagged.add(uid)
        if data["events"]["itemusages"] and any((uid, vault_id) not in recent_use for vault_id, _ in direct[uid]):
            flagged.add(uid)
    return flagged
