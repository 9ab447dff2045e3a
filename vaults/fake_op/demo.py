"""The demo organisation: a fake 1Password account whose findings are known in advance.

`generate_organisation()` builds an account file (format: vaults/fake_op/account.py) in which the
rules of docs/findings-rules.md find exactly what the `planted` manifest lists. Default sizes give
the scenario users know: 23 vaults, 487 active items, 52 users (one of them the service account),
8 groups, 12 duplicate groups (true copies), 4 reused secrets, 34 unclear names, 6 over-permissioned
users, 8 orphaned items, 3 weak passwords and 47 items missing metadata. Other sizes scale every planted count in
proportion (items for item findings, users for over-permissioned users).

How it is built:
1. People, groups and vaults. Users reach vaults through one team group each (plus the Everyone
   vault through Team Members); personal vaults and a few others are direct grants with normal
   permissions. The service account holds a direct grant on every vault, without manage rights.
2. Items that pass every rule: conventional titles, tags, notes, a URL on logins, strong unique
   canary secrets, recent edits for rotating secrets, expiry dates far away.
3. Planting: disjoint sets of items get exactly one defect each (a duplicate group shares one
   canary); chosen users get one over-permission reason each.
4. Events over the last ~6 months: every non-orphaned item is used, every direct grant is used
   within 90 days (except the planted unused one), a few break-glass uses between 01:00 and
   04:00 UTC, sign-in attempts (some failed) and audit events.
No Django here: the fake `op` and the benchmarks import this directly.
"""

from __future__ import annotations

import random
import re
import statistics
from datetime import datetime, timedelta
from typing import Any

from vaults.fake_op import demo_catalog as catalog
from vaults.fake_op.account import FORMAT, format_ts, parse_ts
from vaults.fake_op.demo_events import build_events
from vaults.fake_op.demo_items import Canaries, build_item
from vaults.findings.copies import same_service

Row = dict[str, Any]

DEFAULT_SIZES = {"vaults": 23, "items": 487, "users": 52, "groups": 8}
# Planted counts at the default sizes; other sizes scale them.
DEFAULT_PLANTED = {
    "duplicate": 12,
    "reused_secret": 4,
    "unclear_name": 34,
    "orphaned": 8,
    "weak": 3,
    "missing_metadata": 47,
    "overdue_rotation": 4,
    "rotation_due_soon": 3,
    "expiring": 3,
    "shared_across_environments": 2,
    "over_permissioned": 6,
    "archived": 5,
}
ROTATING_CATEGORIES = frozenset({"API_CREDENTIAL", "DATABASE", "SERVER", "SSH_KEY"})
FINGERPRINTED_CATEGORIES = ("LOGIN", "PASSWORD", "API_CREDENTIAL", "DATABASE", "SERVER")
CANARY_PATTERN = re.compile(r"CANARY-[0-9a-f]{16}-[A-Za-z0-9]{10}")
OVER_PERMISSION_REASONS = ["suspended", "direct_manage", "unused_direct", "many_vaults", "suspended", "direct_export"]
HOSTILE_TITLES = [
    "<script>alert(1)</script> Production Login",
    '=HYPERLINK("http://x","y") Production Key',
    "\u202eStripe Production API Key",
    "Legacy Production Key " + "lorem ipsum dolor " * 570,
]
_B32 = "abcdefghijklmnopqrstuvwxyz234567"


class _Builder:
    def __init__(self, seed: int, now: datetime) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self.canaries = Canaries(self.rng)
        self.users: list[Row] = []
        self.groups: list[Row] = []
        self.vaults: list[Row] = []
        self.items: list[Row] = []
        self.klass: dict[str, str] = {}  # vault id -> classification
        self.planted: dict[str, list[Any]] = {}
        self.weak_values: list[str] = []
        self.used: set[str] = set()  # item ids already given a defect
        self.orphans_by_age: set[str] = set()
        self.no_recent_use: set[tuple[str, str]] = set()  # (user id, vault id) left unused
        self.inactive_users: set[str] = set()
        self.order: list[Row] = []
        self.groups_of: dict[str, set[str]] = {}

    # --- ids and time ---------------------------------------------------------------------------

    def item_id(self) -> str:
        return "".join(self.rng.choices(_B32, k=26))

    def user_id(self) -> str:
        return "".join(self.rng.choices(_B32, k=26)).upper()

    def days_ago(self, low: float, high: float) -> datetime:
        return self.now - timedelta(days=self.rng.uniform(low, high))

    # --- 1. people, groups, vaults ----------------------------------------------------------------

    def people(self, count: int) -> None:
        created = format_ts(self.days_ago(700, 1100))
        self.service_account = {
            "id": self.user_id(),
            "name": "OpenClaw Sync",
            "email": "openclaw-sync@acme-demo.example",
            "type": "SERVICE_ACCOUNT",
            "state": "ACTIVE",
            "created_at": created,
            "updated_at": created,
            "last_auth_at": format_ts(self.now),
        }
        self.users.append(self.service_account)
        names = [(f, la) for la in catalog.LAST_NAMES for f in catalog.FIRST_NAMES]
        self.rng.shuffle(names)
        for index in range(count - 1):
            first, last = names[index % len(names)]
            suffix = "" if index < len(names) else str(index // len(names) + 1)
            joined = format_ts(self.days_ago(40, 1000))
            self.users.append(
                {
                    "id": self.user_id(),
                    "name": f"{first} {last}{suffix}",
                    "email": f"{first.lower()}.{last.lower()}{suffix}@acme-demo.example",
                    "type": "MEMBER",
                    "state": "ACTIVE",
                    "created_at": joined,
                    "updated_at": joined,
                    "last_auth_at": format_ts(self.days_ago(0, 10)),
                }
            )
        self.humans = self.users[1:]

    def make_groups(self, count: int) -> None:
        if count < 5:
            raise ValueError("the demo needs at least 5 groups (4 built-in + 1 team)")
        created = format_ts(self.days_ago(1100, 1200))
        humans = [u["id"] for u in self.humans]
        builtin_members = [humans[0:2], humans[2:5], humans[0:5], humans]
        for (name, description, kind), members in zip(catalog.BUILTIN_GROUPS, builtin_members, strict=True):
            self.groups.append(self._group(name, description, kind, created, members))
        self.owners, self.admins = set(humans[0:2]), set(humans[2:5])
        self.teams: list[Row] = []
        for index in range(count - 4):
            name = catalog.CUSTOM_GROUPS[index % len(catalog.CUSTOM_GROUPS)]
            name += f" {index // len(catalog.CUSTOM_GROUPS) + 1}" if index >= len(catalog.CUSTOM_GROUPS) else ""
            members = humans[index :: count - 4]
            self.teams.append(self._group(name, f"The {name} team.", "USER_DEFINED", created, members))
        self.groups.extend(self.teams)

    def _group(self, name: str, description: str, kind: str, created: str, members: list[str]) -> Row:
        roles = [{"user_id": m, "role": "MANAGER" if i == 0 else "MEMBER"} for i, m in enumerate(members)]
        return {
            "id": self.item_id(),
            "name": name,
            "description": description,
            "state": "ACTIVE",
            "type": kind,
            "created_at": created,
            "updated_at": created,
            "permissions": [],
            "members": roles,
        }

    def make_vaults(self, count: int) -> None:
        team_index = 0
        personal_owners = iter(u["id"] for u in self.humans[5:])
        self.personal_owner: dict[str, str] = {}
        for index, (name, klass) in enumerate(catalog.vault_names(count)):
            created_by = self.service_account["id"] if index % 3 == 1 else self.humans[2 % len(self.humans)]["id"]
            vault: Row = {
                "id": self.item_id(),
                "name": name,
                "description": f"{name} secrets.",
                "type": "EVERYONE" if name == "Everyone" else "USER_CREATED",
                "content_version": 0,
                "attribute_version": 1,
                "created_at": format_ts(self.days_ago(600, 1000)),
                "updated_at": "",
                "created_by": created_by,
                "user_grants": [
                    {"user_id": self.service_account["id"], "permissions": list(catalog.SERVICE_ACCOUNT_PERMISSIONS)}
                ],
                "group_grants": [],
            }
            self.klass[vault["id"]] = klass
            if klass == "personal":
                owner = next(personal_owners)
                self.personal_owner[vault["id"]] = owner
                vault["user_grants"].append({"user_id": owner, "permissions": list(catalog.NORMAL_PERMISSIONS)})
            elif name == "Everyone":
                vault["group_grants"].append(
                    {"group_id": self.groups[3]["id"], "permissions": list(catalog.NORMAL_PERMISSIONS)}
                )
            else:
                team = self.teams[team_index % len(self.teams)]
                team_index += 1
                vault["group_grants"].append({"group_id": team["id"], "permissions": list(catalog.NORMAL_PERMISSIONS)})
                if klass == "production" and sum(1 for v in self.vaults if self._admin_grant(v)) < 2:
                    vault["group_grants"].append(
                        {"group_id": self.groups[1]["id"], "permissions": [*catalog.NORMAL_PERMISSIONS, "manage_vault"]}
                    )
            self.vaults.append(vault)

    def _admin_grant(self, vault: Row) -> bool:
        return any(g["group_id"] == self.groups[1]["id"] for g in vault["group_grants"])

    def normal_direct_grants(self) -> None:
        """A few people also hold a direct, normal grant on a vault their team already reaches."""
        taken = set(self.personal_owner.values()) | self.owners | self.admins
        candidates = [u for u in self.humans if u["id"] not in taken]
        self.direct_normal_holders: set[str] = set()
        for user in candidates[: max(1, len(self.humans) // 10)]:
            reachable = [v for v in self.vaults if self._via_group(user["id"], v)]
            if reachable:
                vault = self.rng.choice(reachable)
                vault["user_grants"].append({"user_id": user["id"], "permissions": list(catalog.NORMAL_PERMISSIONS)})
                self.direct_normal_holders.add(user["id"])

    def mark_guests(self, count: int) -> None:
        """The last `count` people outside the owners, administrators and planted people become
        guests (1Password's GUEST type), whom OpenClaw gives a default access end date. Run after
        everything else: it draws nothing from the generator, so the rest of the file is unchanged."""
        planted = set(self.planted.get("over_permissioned", [])) | set(self.planted.get("pending_state", []))
        taken = self.owners | self.admins | planted
        for user in [u for u in reversed(self.humans) if u["id"] not in taken][:count]:
            user["type"] = "GUEST"

    def _member_groups(self, user_id: str) -> set[str]:
        if not self.groups_of:
            for group in self.groups:
                for member in group["members"]:
                    self.groups_of.setdefault(member["user_id"], set()).add(group["id"])
        return self.groups_of.get(user_id, set())

    def _via_group(self, user_id: str, vault: Row) -> bool:
        groups = self._member_groups(user_id)
        return any(g["group_id"] in groups for g in vault["group_grants"])

    def access_counts(self) -> dict[str, set[str]]:
        """Effective vault access per user (direct grants plus group grants)."""
        members: dict[str, set[str]] = {}
        for group in self.groups:
            for member in group["members"]:
                members.setdefault(group["id"], set()).add(member["user_id"])
        access: dict[str, set[str]] = {u["id"]: set() for u in self.users}
        for vault in self.vaults:
            for grant in vault["user_grants"]:
                access[grant["user_id"]].add(vault["id"])
            for grant in vault["group_grants"]:
                for user_id in members.get(grant["group_id"], ()):
                    access[user_id].add(vault["id"])
        return access

    # --- 2. items --------------------------------------------------------------------------------

    def make_items(self, count: int, *, state: str = "ACTIVE") -> list[Row]:
        weights = [0.35 if self.klass[v["id"]] == "personal" else self.rng.uniform(0.7, 1.3) for v in self.vaults]
        targets = self.rng.choices(self.vaults, weights=weights, k=count)
        if count >= len(self.vaults) and state == "ACTIVE":
            targets[: len(self.vaults)] = self.vaults  # every vault holds at least one item
        titles: set[tuple[str, str]] = {(i["vault_id"], i["title"]) for i in self.items}
        made = []
        for vault in targets:
            made.append(self._item(vault, titles, state))
        self.items.extend(made)
        return made

    def _item(self, vault: Row, titles: set[tuple[str, str]], state: str) -> Row:
        rng = self.rng
        klass = self.klass[vault["id"]]
        weights = catalog.CATEGORY_WEIGHTS[klass]
        category = rng.choices(list(weights), weights=list(weights.values()))[0]
        service, domain = rng.choice(catalog.SERVICES)
        env_word = rng.choice(catalog.title_environment(vault["name"], klass))
        title = f"{service} {env_word} {rng.choice(catalog.TYPE_WORDS[category])}"
        base, number = title, 2
        while (vault["id"], title) in titles:
            title, number = f"{base} {number}", number + 1
        titles.add((vault["id"], title))
        tags = [env_word.lower(), service.lower().replace(" ", "-")]
        if category == "LOGIN" and klass in ("production", "non-production") and rng.random() < 0.3:
            tags.append("service-account")
        created = self.days_ago(30, 900)
        if self._rotates(category, tags) or self._shared_login(category, klass):
            updated = max(created, self.days_ago(1, 50))
        else:
            updated = created + (self.now - created) * rng.random()
        item: Row = {
            "id": self.item_id(),
            "vault_id": vault["id"],
            "title": title,
            "category": category,
            "version": rng.randint(1, 9),
            "state": state,
            "favorite": rng.random() < 0.05,
            "tags": tags,
            "created_at": format_ts(created),
            "updated_at": format_ts(updated),
            "last_edited_by": self.service_account["id"] if rng.random() < 0.2 else rng.choice(self.humans)["id"],
        }
        item.update(
            build_item(
                rng, self.canaries, category=category, service=service, domain=domain, env_word=env_word, now=self.now
            )
        )
        return item

    @staticmethod
    def _shared_login(category: str, klass: str) -> bool:
        """Logins in production and shared vaults rotate too (docs/findings-rules.md)."""
        return category in ("LOGIN", "PASSWORD") and klass in ("production", "shared")

    @staticmethod
    def _rotates(category: str, tags: list[str]) -> bool:
        return category in ROTATING_CATEGORIES or (category == "LOGIN" and "service-account" in tags)

    # --- 3. planting -----------------------------------------------------------------------------

    def pick(self, count: int, predicate: Any, *, spread_vaults: bool = False) -> list[Row]:
        """`count` random active items not planted yet that satisfy `predicate`."""
        if len(self.order) != len(self.items):  # shuffle once: picks then stop at the first matches
            self.order = list(self.items)
            self.rng.shuffle(self.order)
        matches = (i for i in self.order if i["state"] == "ACTIVE" and i["id"] not in self.used and predicate(i))
        if spread_vaults:  # one per vault first, so no vault loses all its normal items
            pool = list(matches)
            first: dict[str, Row] = {}
            for item in pool:
                first.setdefault(item["vault_id"], item)
            firsts = set(map(id, first.values()))
            chosen = (list(first.values()) + [i for i in pool if id(i) not in firsts])[:count]
        else:
            chosen = [item for _, item in zip(range(count), matches, strict=False)]
        if len(chosen) < count:
            raise ValueError(f"not enough items to plant {count} findings; generate more items")
        self.used.update(i["id"] for i in chosen)
        return chosen

    def is_prod(self, item: Row) -> bool:
        return self.klass[item["vault_id"]] == "production"

    def not_personal(self, item: Row) -> bool:
        return self.klass[item["vault_id"]] != "personal"

    def plant_duplicates(self, groups: int, across: int) -> None:
        fingerprinted = set(FINGERPRINTED_CATEGORIES)
        sizes = [2 if index < across or index % 4 != 3 else 3 for index in range(groups)]
        prod_side = [index >= across and index % 2 == 0 for index in range(groups)]
        # One pick per side (not per group) keeps generation linear in the number of items.
        prod = self.pick(
            across + sum(n for n, p in zip(sizes, prod_side, strict=True) if p),
            lambda i: i["category"] in fingerprinted and self.is_prod(i),
        )
        other = self.pick(
            across + sum(n for i, (n, p) in enumerate(zip(sizes, prod_side, strict=True)) if not p and i >= across),
            lambda i: i["category"] in fingerprinted and not self.is_prod(i),
        )
        self.planted["duplicate"], self.planted["shared_across_environments"] = [], []
        for index, size in enumerate(sizes):
            if index < across:
                members = [prod.pop(), other.pop()]
            else:
                side = prod if prod_side[index] else other
                members = [side.pop() for _ in range(size)]
            shared = self.canaries.new()
            for item in members:
                _secret(item)["value"] = shared
            _make_copies(members)
            ids = [i["id"] for i in members]
            self.planted["duplicate"].append(ids)
            if index < across:
                self.planted["shared_across_environments"].append(ids)

    def plant_reused(self, count: int) -> None:
        """Pairs of items of *different* services sharing one secret (vaults/findings/copies.py):
        reused secrets, not duplicates. Both of a pair sit on one side of production so they are not
        also shared across environments. The second item takes the first's existing canary, so no
        random number is drawn and the rest of the organisation is generated as before."""
        fingerprinted = set(FINGERPRINTED_CATEGORIES)
        self.planted["reused_secret"] = []
        for index in range(count):
            side = index % 2 == 0
            [first] = self.pick(1, lambda i, p=side: i["category"] in fingerprinted and self.is_prod(i) == p)
            [second] = self.pick(
                1,
                lambda i, p=side, a=first: i["category"] in fingerprinted and self.is_prod(i) == p
                and not same_service(a, i),
            )  # fmt: skip
            _secret(second)["value"] = _secret(first)["value"]
            self.planted["reused_secret"].append([first["id"], second["id"]])

    def plant_weak(self, count: int) -> None:
        words = ["acme", "admin", "spring", "qwerty", "monkey", "dragon", "sunshine"]
        values = ["Summer2024!", "password123", "Welcome1"]
        while len(values) < count:
            candidate = f"{self.rng.choice(words)}{self.rng.randint(1, 9999)}"
            if candidate not in values:
                values.append(candidate)
        items = self.pick(count, lambda i: i["category"] in ("LOGIN", "PASSWORD", "DATABASE"))
        for item, value in zip(items, values, strict=False):
            field = _secret(item)
            field["value"] = value
            if "password_details" in field:
                field["entropy"] = 28.5
                field["password_details"] = {
                    "entropy": 28,
                    "generated": False,
                    "strength": self.rng.choice(["WEAK", "TERRIBLE"]),
                }
            self.weak_values.append(value)
        self.planted["weak"] = [i["id"] for i in items]

    def plant_unclear(self, count: int) -> None:
        titles = catalog.GENERIC_TITLES + catalog.SLOPPY_TITLES
        items = self.pick(count, self.not_personal)
        for index, item in enumerate(items):
            item["title"] = titles[index % len(titles)]
        self.planted["unclear_name"] = [i["id"] for i in items]

    def plant_orphaned(self, count: int) -> None:
        tagged = count // 4
        sizes: dict[str, int] = {}
        for item in self.items:
            sizes[item["vault_id"]] = sizes.get(item["vault_id"], 0) + 1
        items = self.pick(
            count,
            lambda i: (
                self.not_personal(i) and sizes[i["vault_id"]] >= 3 and not self._rotates(i["category"], i["tags"])
                and not self._shared_login(i["category"], self.klass[i["vault_id"]])
            ),
            spread_vaults=True,
        )
        for index, item in enumerate(items):
            if index < tagged:
                item["tags"].append("deprecated" if index % 2 == 0 else "decommissioned")
                continue
            created = self.days_ago(400, 900)
            item["created_at"] = format_ts(created)
            item["updated_at"] = format_ts(max(created, self.days_ago(200, 390)))
            self.orphans_by_age.add(item["id"])
        self.planted["orphaned"] = [i["id"] for i in items]

    def plant_missing_metadata(self, count: int) -> None:
        no_tags = self.pick((count + 2) // 3, lambda i: "service-account" not in i["tags"])
        no_notes = self.pick((count + 1) // 3, lambda i: i["category"] != "SECURE_NOTE")
        no_url = self.pick(count // 3, lambda i: i["category"] == "LOGIN")
        for item in no_tags:
            item["tags"] = []
        for item in no_notes:
            for field in item["fields"]:
                if field["id"] == "notesPlain":
                    field.pop("value", None)
        for item in no_url:
            item["urls"] = []
        self.planted["missing_metadata"] = [i["id"] for i in no_tags + no_notes + no_url]

    def plant_rotation(self, overdue: int, due_soon: int) -> None:
        """Rotating secrets changed too long ago (overdue) or nearly so (due soon); the last one of
        each kind sits in a non-production vault (365-day period), the others in production."""
        for kind, count, prod_age, other_age in (
            ("overdue_rotation", overdue, (100, 170), (380, 480)),
            ("rotation_due_soon", due_soon, (62, 86), (337, 362)),
        ):
            in_prod = count if count == 1 else count - 1
            chosen = [
                (item, age)
                for number, is_prod, age in ((in_prod, True, prod_age), (count - in_prod, False, other_age))
                for item in self.pick(
                    number, lambda i, p=is_prod: self._rotates(i["category"], i["tags"]) and self.is_prod(i) == p
                )
            ]
            for item, age in chosen:
                changed = self.days_ago(*age)
                item["created_at"] = format_ts(min(changed, self.days_ago(age[1] + 10, age[1] + 300)))
                item["updated_at"] = format_ts(changed)
            self.planted[kind] = [item["id"] for item, _ in chosen]

    def plant_expiring(self, count: int) -> None:
        items = self.pick(count, lambda i: i["category"] == "API_CREDENTIAL")
        for index, item in enumerate(items):
            when = self.now - timedelta(days=5) if index % 3 == 2 else self.now + timedelta(days=5 + 7 * index % 20)
            for field in item["fields"]:
                if field["id"] == "expires":
                    field["value"] = str(int(when.timestamp()))
        self.planted["expiring"] = [i["id"] for i in items]

    def plant_over_permissioned(self, count: int) -> None:
        excluded = self.owners | self.admins | set(self.personal_owner.values()) | self.direct_normal_holders
        candidates = [u for u in self.humans if u["id"] not in excluded]
        self.rng.shuffle(candidates)
        if len(candidates) < count:
            raise ValueError("not enough users to plant over-permissioned users")
        chosen = candidates[:count]
        many = [u for i, u in enumerate(chosen) if OVER_PERMISSION_REASONS[i % 6] == "many_vaults"]
        for index, user in enumerate(chosen):
            reason = OVER_PERMISSION_REASONS[index % len(OVER_PERMISSION_REASONS)]
            own = [v for v in self.vaults if self._via_group(user["id"], v)] or [
                v for v in self.vaults if self.klass[v["id"]] != "personal"
            ]
            if reason == "suspended":
                # Every other suspended leaver is suspended mid account-transfer: op prints
                # TRANSFER_SUSPENDED for them, and they still hold their access all the same.
                user["state"] = "TRANSFER_SUSPENDED" if len(self.inactive_users) % 2 else "SUSPENDED"
                self.inactive_users.add(user["id"])
            elif reason in ("direct_manage", "direct_export"):
                extra = "manage_vault" if reason == "direct_manage" else "export_items"
                vault = self.rng.choice(own)
                vault["user_grants"].append(
                    {"user_id": user["id"], "permissions": [*catalog.NORMAL_PERMISSIONS, extra]}
                )
            elif reason == "unused_direct":
                others = [v for v in self.vaults if v not in own and self.klass[v["id"]] != "personal"] or own
                vault = self.rng.choice(others)
                vault["user_grants"].append({"user_id": user["id"], "permissions": list(catalog.NORMAL_PERMISSIONS)})
                self.no_recent_use.add((user["id"], vault["id"]))
        # Many vaults last: the threshold depends on everybody else's access.
        low, high = self._threshold_range()
        access = self.access_counts()
        for user in many:
            spare = [v for v in self.vaults if v["id"] not in access[user["id"]] and self.klass[v["id"]] != "personal"]
            needed = int(high) + 2 - len(access[user["id"]])
            if needed > len(spare):
                raise ValueError("too few vaults to plant a user with access to too many vaults")
            for vault in spare[:needed]:
                vault["user_grants"].append({"user_id": user["id"], "permissions": list(catalog.NORMAL_PERMISSIONS)})
        low, high = self._threshold_range()
        access = self.access_counts()
        for user in self.humans:
            flagged = len(access[user["id"]]) > (high if user in many else low)
            if flagged != (user in many):
                raise AssertionError(f"{user['name']}: access to many vaults is not planted as intended")
        self.planted["over_permissioned"] = [u["id"] for u in chosen]

    def plant_pending_states(self) -> None:
        """Two people between states, as op reports them: one whose account recovery started, one
        joining by account transfer. They are not leavers. Chosen without the random generator
        (the last unplanted members), so every other planted fact stays as it was."""
        planted = set(self.planted.get("over_permissioned", [])) | self.owners | self.admins
        members = [u for u in self.humans if u["id"] not in planted and u["state"] == "ACTIVE"]
        for user, state in zip(reversed(members), ("RECOVERY_STARTED", "TRANSFER_STARTED"), strict=False):
            user["state"] = state
            self.planted.setdefault("pending_state", []).append(user["id"])

    def attach_files(self) -> None:
        """DOCUMENT-style files on a few items (op's `files`: name and size), chosen without the
        random generator: the first secure note and the first server of each shared vault."""
        for vault in [v for v in self.vaults if self.klass[v["id"]] == "shared"]:
            for category, name in (("SECURE_NOTE", "runbook.pdf"), ("SERVER", "network diagram.png")):
                item = next((i for i in self.items if i["vault_id"] == vault["id"] and i["category"] == category
                             and i["state"] == "ACTIVE"), None)
                if item is not None:
                    size = 2048 + int(item["id"][:6], 36) % 900_000
                    item["files"] = [{"id": item["id"][::-1], "name": name, "size": size}]

    def _threshold_range(self) -> tuple[float, float]:
        """Lowest and highest "too many vaults" threshold over the ways a reader of the rule may
        take the median (with or without the user judged, the service account, inactive people),
        so planted and normal users land clearly on their side whatever the reading."""
        access = self.access_counts()
        humans = sorted(len(access[u["id"]]) for u in self.humans)
        active = [len(access[u["id"]]) for u in self.humans if u["id"] not in self.inactive_users]
        everyone = [*humans, len(access[self.service_account["id"]])]
        variants = [humans, humans[1:], humans[:-1], active, everyone]
        thresholds = [_threshold(statistics.median(v)) for v in variants if v]
        return min(thresholds), max(thresholds)

    def finish_vaults(self) -> None:
        by_vault: dict[str, list[Row]] = {}
        for item in self.items:
            by_vault.setdefault(item["vault_id"], []).append(item)
        for vault in self.vaults:
            items = by_vault.get(vault["id"], [])
            vault["content_version"] = sum(i["version"] for i in items) + len(items) + 1
            vault["updated_at"] = max([vault["created_at"], *(i["updated_at"] for i in items)])


def _threshold(median: float) -> float:
    return max(2 * median, median + 5)


def _secret(item: Row) -> Row:
    for field in item["fields"]:
        if field.get("purpose") == "PASSWORD":
            return field
    for field in item["fields"]:
        if field.get("type") == "CONCEALED":
            return field
    raise ValueError(f"{item['category']} item has no concealed field")


def _make_copies(members: list[Row]) -> None:
    """Make planted duplicates true copies of one credential: one title (so one title stem), one
    sign-in name and, on the members that have a URL, one URL host. Members without a URL keep none, so no login
    loses its URL and no other finding appears."""
    source: list[Row] = next((m["urls"] for m in members if m.get("urls")), [])
    sign_in = next((f for m in members for f in m["fields"] if f.get("purpose") == "USERNAME"), None)
    for member in members[1:]:
        member["title"] = members[0]["title"]
        if member.get("urls") and source:
            member["urls"] = [dict(u) for u in source]
    if sign_in is not None:  # one account: every copy signs in with the same name
        for member in members:
            member["fields"] = [f for f in member["fields"] if f.get("purpose") != "USERNAME"]
            member["fields"].insert(0, dict(sign_in))


def _scaled(kind: str, factor: float) -> int:
    return round(DEFAULT_PLANTED[kind] * factor)


def generate_organisation(
    *,
    seed: int = 42,
    vaults: int = 23,
    items: int = 487,
    users: int = 52,
    groups: int = 8,
    now: datetime,
    hostile: bool = False,
    guests: int = 0,
) -> dict[str, Any]:
    """Build the demo account (see the module docstring); the same arguments give the same file."""
    if vaults < 8 or users < 12:
        raise ValueError("the demo needs at least 8 vaults and 12 users")
    builder = _Builder(seed, now)
    builder.people(users)
    builder.make_groups(groups)
    builder.make_vaults(vaults)
    builder.normal_direct_grants()
    builder.make_items(items)
    item_factor, user_factor = items / DEFAULT_SIZES["items"], users / DEFAULT_SIZES["users"]
    duplicate_groups = _scaled("duplicate", item_factor)
    builder.plant_duplicates(
        duplicate_groups, min(duplicate_groups, max(1, _scaled("shared_across_environments", item_factor)))
    )
    builder.plant_reused(_scaled("reused_secret", item_factor))
    builder.plant_weak(_scaled("weak", item_factor))
    builder.plant_unclear(_scaled("unclear_name", item_factor))
    builder.plant_orphaned(_scaled("orphaned", item_factor))
    builder.plant_missing_metadata(_scaled("missing_metadata", item_factor))
    builder.plant_rotation(
        max(1, _scaled("overdue_rotation", item_factor)), max(1, _scaled("rotation_due_soon", item_factor))
    )
    builder.plant_expiring(max(1, _scaled("expiring", item_factor)))
    builder.plant_over_permissioned(_scaled("over_permissioned", user_factor))
    builder.plant_pending_states()
    archived = builder.make_items(max(1, _scaled("archived", item_factor)), state="ARCHIVED")
    builder.planted["archived"] = [i["id"] for i in archived]
    builder.planted["hostile"] = []
    if hostile:
        shared = [v for v in builder.vaults if builder.klass[v["id"]] == "shared"]
        for title in HOSTILE_TITLES:
            item = builder.make_items(1)[0]
            item["vault_id"], item["title"] = shared[0]["id"], title
            if builder._shared_login(item["category"], "shared"):  # now a shared login: recently rotated
                item["updated_at"] = format_ts(max(now - timedelta(days=10), parse_ts(item["created_at"])))
            builder.used.add(item["id"])
            builder.planted["hostile"].append(item["id"])
    builder.attach_files()
    builder.finish_vaults()
    events, break_glass = build_events(builder)
    builder.planted["break_glass_usages"] = break_glass
    builder.mark_guests(guests)
    return _assemble(builder, seed, events)


def _assemble(builder: _Builder, seed: int, events: dict[str, list[Row]]) -> dict[str, Any]:
    rng = builder.rng
    token = "ops_" + "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", k=160))
    admin_session = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789_-", k=43))
    account_id = builder.user_id()
    canaries: set[str] = set()
    for item in builder.items:
        for field in item["fields"]:
            canaries.update(CANARY_PATTERN.findall(str(field.get("value", ""))))
            canaries.update(CANARY_PATTERN.findall(" ".join(field.get("password_details", {}).get("history", []))))
    return {
        "format": FORMAT,
        "demo": {"seed": seed, "now": format_ts(builder.now)},
        "account": {"id": account_id, "name": "Acme Demo", "url": "https://acme-demo.1password.com"},
        "tokens": [
            {"token": token, "user_id": builder.service_account["id"], "expires_at": None, "revoked": False},
            {
                "token": token[:-6] + "EXPIRD",
                "user_id": builder.service_account["id"],
                "expires_at": format_ts(builder.now - timedelta(days=1)),
                "revoked": False,
            },
            {
                "token": token[:-6] + "REVOKD",
                "user_id": builder.service_account["id"],
                "expires_at": None,
                "revoked": True,
            },
            {"token": admin_session, "user_id": builder.humans[0]["id"], "expires_at": None, "revoked": False},
        ],
        "events_token": "ev_" + "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=48)),
        # 1Password Business limits (10,000 reads/hour per token, 50,000/day per account): a full
        # sync of the demo costs ~650 requests, which a Teams budget (1,000/hour) allows once an hour.
        "rate_limits": {"token_read": 10_000, "token_write": 1_000, "account_read_write": 50_000},
        "users": builder.users,
        "groups": builder.groups,
        "vaults": builder.vaults,
        "items": builder.items,
        "events": events,
        "canaries": sorted(canaries),
        "weak_values": builder.weak_values,
        "planted": builder.planted,
    }
