from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from tests.vaults.fake_op import rules
from tests.vaults.fake_op.conftest import NOW, REPO
from vaults.fake_op.demo import HOSTILE_TITLES, generate_organisation

CANARY = re.compile(r"CANARY-[0-9a-f]{16}-[A-Za-z0-9]{10}")


def _as_sets(planted: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind, ids in planted.items():
        if kind in ("duplicate", "reused_secret", "shared_across_environments"):
            out[kind] = {frozenset(group) for group in ids}
        else:
            out[kind] = set(ids)
    return out


CHECKED = [
    "duplicate",
    "reused_secret",
    "shared_across_environments",
    "weak",
    "unclear_name",
    "orphaned",
    "missing_metadata",
    "overdue_rotation",
    "rotation_due_soon",
    "expiring",
    "over_permissioned",
]


def test_default_demo_has_the_known_sizes(demo_data: dict[str, Any]) -> None:
    active = [i for i in demo_data["items"] if i["state"] == "ACTIVE"]
    assert len(active) == 487
    assert len(demo_data["vaults"]) == 23
    assert len(demo_data["users"]) == 52
    assert len(demo_data["groups"]) == 8


@pytest.fixture(scope="module")
def demo_findings(demo_data: dict[str, Any]) -> dict[str, Any]:
    return rules.findings(demo_data, NOW)


def test_default_demo_has_the_known_finding_counts(demo_findings: dict[str, Any]) -> None:
    found = demo_findings
    assert len(found["duplicate"]) == 12
    assert len(found["reused_secret"]) == 4
    assert len(found["unclear_name"]) == 34
    # 6 planted over-permissioned people + 2 in a pending state (recovery/transfer) with a low finding.
    assert len(found["over_permissioned"]) == 6 + 2
    assert len(found["orphaned"]) == 8
    assert len(found["weak"]) == 3
    assert len(found["missing_metadata"]) == 47
    assert found["overdue_rotation"] and found["rotation_due_soon"] and found["expiring"]
    assert found["shared_across_environments"]


def test_the_rules_find_exactly_the_planted_manifest(demo_data: dict[str, Any], demo_findings: dict[str, Any]) -> None:
    found = demo_findings
    planted = _as_sets(demo_data["planted"])
    # People in a pending state with access get a low finding of their own, not planted as over-permissioned.
    planted["over_permissioned"] = planted["over_permissioned"] | rules.pending_access(demo_data)
    for kind in CHECKED:
        assert found[kind] == planted[kind], kind


def test_duplicates_recount_by_grouping_values(demo_data: dict[str, Any]) -> None:
    values: dict[str, set[str]] = {}
    for item in demo_data["items"]:
        if item["state"] != "ACTIVE":
            continue
        for field in item["fields"]:
            if field["type"] == "CONCEALED" and field.get("value"):
                values.setdefault(field["value"], set()).add(item["id"])
    groups = sorted(sorted(ids) for ids in values.values() if len(ids) > 1)
    planted = demo_data["planted"]["duplicate"] + demo_data["planted"]["reused_secret"]
    assert groups == sorted(sorted(g) for g in planted)


def test_every_canary_is_unique_except_within_a_duplicate_group(demo_data: dict[str, Any]) -> None:
    seen: Counter[str] = Counter()
    for item in demo_data["items"]:
        text = json.dumps(item["fields"])
        for canary in set(CANARY.findall(text)):
            seen[canary] += 1
    shared = {c for c, n in seen.items() if n > 1}
    assert len(shared) == len(demo_data["planted"]["duplicate"]) + len(demo_data["planted"]["reused_secret"])
    assert set(demo_data["canaries"]) == set(seen)
    assert not set(demo_data["weak_values"]) & set(demo_data["canaries"])


def test_every_strong_secret_is_a_canary_or_a_listed_weak_value(demo_data: dict[str, Any]) -> None:
    weak = set(demo_data["weak_values"])
    for item in demo_data["items"]:
        for field in item["fields"]:
            value = field.get("value")
            secret = field["type"] in ("CONCEALED", "SSHKEY", "OTP") or field.get("purpose") == "NOTES"
            if secret and value:
                assert value in weak or CANARY.search(value), (item["title"], field["id"])
            for old in field.get("password_details", {}).get("history", []):
                assert CANARY.fullmatch(old)


def test_every_category_and_vault_class_appears(demo_data: dict[str, Any]) -> None:
    categories = {i["category"] for i in demo_data["items"]}
    assert categories == {"LOGIN", "PASSWORD", "API_CREDENTIAL", "DATABASE", "SERVER", "SSH_KEY", "SECURE_NOTE"}
    classes = Counter(rules.classify(v["name"], v["type"]) for v in demo_data["vaults"])
    assert {"production", "non-production", "shared", "personal"} <= set(classes)


def test_some_vaults_are_created_by_the_service_account_and_some_not(demo_data: dict[str, Any]) -> None:
    service_account = demo_data["tokens"][0]["user_id"]
    creators = Counter(v["created_by"] == service_account for v in demo_data["vaults"])
    assert creators[True] and creators[False]


def test_usage_covers_two_quarters_with_night_time_break_glass(demo_data: dict[str, Any]) -> None:
    stamps = sorted(rules.ts(e["timestamp"]) for e in demo_data["events"]["itemusages"])
    assert stamps[0] >= NOW - timedelta(days=183)
    assert stamps[-1] <= NOW
    assert stamps[-1] - stamps[0] > timedelta(days=150)
    night = [e for e in demo_data["events"]["itemusages"] if 1 <= rules.ts(e["timestamp"]).hour < 4]
    assert {e["uuid"] for e in night} == set(demo_data["planted"]["break_glass_usages"])
    vaults = {v["id"]: v["name"] for v in demo_data["vaults"]}
    assert all("Break Glass" in vaults[e["vault_uuid"]] for e in night)
    assert any(e["category"] != "success" for e in demo_data["events"]["signinattempts"])
    assert demo_data["events"]["auditevents"]


def test_the_same_seed_gives_the_same_organisation() -> None:
    assert generate_organisation(seed=7, now=NOW) == generate_organisation(seed=7, now=NOW)
    assert generate_organisation(seed=7, now=NOW) != generate_organisation(seed=8, now=NOW)


def test_other_sizes_scale_the_planted_counts_and_stay_exact() -> None:
    data = generate_organisation(seed=3, vaults=40, items=1500, users=120, groups=10, now=NOW)
    assert sum(1 for i in data["items"] if i["state"] == "ACTIVE") == 1500
    assert len(data["planted"]["duplicate"]) == round(12 * 1500 / 487)
    assert len(data["planted"]["over_permissioned"]) == round(6 * 120 / 52)
    found = rules.findings(data, NOW)
    planted = _as_sets(data["planted"])
    planted["over_permissioned"] |= rules.pending_access(data)
    for kind in CHECKED:
        assert found[kind] == planted[kind], kind


def test_hostile_titles_are_added_and_the_manifest_stays_exact() -> None:
    data = generate_organisation(now=NOW, hostile=True)
    titles = {i["id"]: i["title"] for i in data["items"]}
    assert sorted(titles[i] for i in data["planted"]["hostile"]) == sorted(HOSTILE_TITLES)
    assert any(len(t) >= 10_000 for t in titles.values())
    found = rules.findings(data, NOW)
    planted = _as_sets(data["planted"])
    planted["over_permissioned"] |= rules.pending_access(data)
    for kind in CHECKED:
        assert found[kind] == planted[kind], kind


@pytest.mark.parametrize(("vaults", "items", "users"), [(100, 20_000, 1_000)])
def test_large_organisations_generate_in_seconds(vaults: int, items: int, users: int) -> None:
    started = time.monotonic()
    data = generate_organisation(vaults=vaults, items=items, users=users, now=NOW)
    assert time.monotonic() - started < 20
    assert sum(1 for i in data["items"] if i["state"] == "ACTIVE") == items


def test_generation_does_not_depend_on_the_hash_seed() -> None:
    script = (
        "import hashlib, json; from tests.vaults.fake_op.conftest import NOW, REPO; "
        "from vaults.fake_op.demo import generate_organisation; "
        "print(hashlib.sha256(json.dumps(generate_organisation(now=NOW)).encode()).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1


def test_planted_duplicates_are_copies_and_reused_secrets_are_different_services(demo_data: dict[str, Any]) -> None:
    from vaults.findings.copies import copy_components

    by_id = {i["id"]: i for i in demo_data["items"]}
    for group in demo_data["planted"]["duplicate"]:
        assert len(copy_components([by_id[i] for i in group])) == 1, [by_id[i]["title"] for i in group]
    for group in demo_data["planted"]["reused_secret"]:
        assert len(copy_components([by_id[i] for i in group])) == len(group), [by_id[i]["title"] for i in group]
