"""The labelled evaluation organisation: the demo organisation at 2,000 items and 200 people,
aligned with today's finding rules, plus planted true cases **and decoys** for every finding kind,
with a `labels` section saying which subjects each rule must report and which it must not.

`labels` (JSON, stored in the account file next to `planted`):
```
{"subject_of": {kind: "item" | "item_group" | "user" | "user_email" | "item_title"},
 "expected":   {kind: [subject, ...]},          # item_group subjects are sorted lists of item ids
 "decoys":     [{"kind", "subject", "reason"}]} # looks like `kind`, must not be reported as it
```
Subjects: item kinds are op item ids; group kinds (duplicate, reused_secret,
shared_across_environments) the op ids of the items a finding names; over_permissioned op user
ids; the access anomalies of the compliance reports (not findings, measured the same way) the
person's email, or for the per-item anomaly the item's title.

How it is built (every step by construction, never by running a rule):
1. `generate_organisation` at the larger sizes; its `planted` manifest is the starting truth.
2. Align the base with the rules as they stand (each step says which rule, and each is a no-op
   where the demo generator already does the same): shared and production logins rotate, so the
   base's unplanted ones were changed recently; each base duplicate group is copies of one
   service; each person uses items from one address, so the random per-event addresses do not
   read as "several addresses at once".
3. Plant the extra true cases and decoys below, each a fresh item or person that passes every
   other rule, with the usage events that keep it from looking abandoned or unused.
No Django here, like the demo generator: the fake `op` and the benchmarks import this directly.
"""

from __future__ import annotations

import copy
import random
from datetime import datetime, timedelta
from typing import Any

from vaults.fake_op import demo_catalog as catalog
from vaults.fake_op.account import format_ts, parse_ts
from vaults.fake_op.demo import generate_organisation
from vaults.fake_op.demo_items import Canaries, build_item

Row = dict[str, Any]

ITEM_KINDS = (
    "weak", "overdue_rotation", "rotation_due_soon", "orphaned", "unclear_name", "missing_metadata", "expiring",
)  # fmt: skip
GROUP_KINDS = ("duplicate", "reused_secret", "shared_across_environments")
# Break-glass (vaults/breakglass/): subjects are the item of the emergency event.
EMERGENCY_KINDS = ("emergency_reason_missing", "emergency_rotation_late")
ANOMALY_SPREAD = "anomaly_item_spread"  # one item, several people, several addresses, one minute
ANOMALY_ADDRESSES = "anomaly_several_addresses"  # one person, several addresses within an hour
ANOMALY_BURST = "anomaly_burst"  # one person, many item uses within an hour
ANOMALY_NIGHT = "anomaly_unusual_hours"  # one person, item uses at night
ANOMALY_KINDS = (ANOMALY_SPREAD, ANOMALY_ADDRESSES, ANOMALY_BURST, ANOMALY_NIGHT)
SUBJECT_OF: dict[str, str] = {
    **{kind: "item" for kind in ITEM_KINDS},
    **{kind: "item_group" for kind in GROUP_KINDS},
    **{kind: "item" for kind in EMERGENCY_KINDS},
    "over_permissioned": "user",
    # Time-limited access (vaults/access_expiry/): the person's op user id.
    "access_past_end_date": "user",
    ANOMALY_SPREAD: "item_title",
    ANOMALY_ADDRESSES: "user_email",
    ANOMALY_BURST: "user_email",
    ANOMALY_NIGHT: "user_email",
}
# Rules whose window a login shared by several people rotates in (vaults/findings/rotation.py, 3).
SHARED_LOGIN_CLASSES = ("production", "shared")
SHARED_LOGIN_CATEGORIES = ("LOGIN", "PASSWORD")
USER_STATES = ("ACTIVE", "RECOVERY_STARTED", "RECOVERY_ACCEPTED", "SUSPENDED", "TRANSFER_STARTED", "TRANSFER_SUSPENDED")
PENDING_STATES = frozenset({"RECOVERY_STARTED", "RECOVERY_ACCEPTED", "TRANSFER_STARTED"})
INACTIVE_STATES = frozenset({"SUSPENDED", "TRANSFER_SUSPENDED"})
_B32 = "abcdefghijklmnopqrstuvwxyz234567"


class _Labeller:
    def __init__(self, data: dict[str, Any], *, seed: int, now: datetime) -> None:
        self.data = data
        self.now = now
        self.rng = random.Random(seed * 7919 + 1)
        self.canaries = Canaries(self.rng)
        self.users = {u["id"]: u for u in data["users"]}
        self.vaults = {v["id"]: v for v in data["vaults"]}
        self.klass = {v["id"]: catalog.classify(v["name"], v["type"]) for v in data["vaults"]}
        self.items = {i["id"]: i for i in data["items"]}
        self.service_account = data["users"][0]
        self.expected: dict[str, list[Any]] = {kind: [] for kind in SUBJECT_OF}
        self.decoys: list[Row] = []
        self.usages: list[Row] = data["events"]["itemusages"]
        self.address: dict[str, str] = {}
        self.groups_of: dict[str, set[str]] = {}
        for group in data["groups"]:
            for member in group["members"]:
                self.groups_of.setdefault(member["user_id"], set()).add(group["id"])

    # --- helpers ---------------------------------------------------------------------------------

    def new_id(self) -> str:
        return "".join(self.rng.choices(_B32, k=26))

    def days_ago(self, days: float) -> datetime:
        return self.now - timedelta(days=days)

    def vault_of(self, klass: str, index: int = 0) -> Row:
        return [v for v in self.data["vaults"] if self.klass[v["id"]] == klass][index]

    def ip_of(self, user_id: str) -> str:
        if user_id not in self.address:
            n = len(self.address)
            self.address[user_id] = f"198.18.{n // 250}.{n % 250 + 1}"
        return self.address[user_id]

    def reachers(self, vault: Row) -> list[str]:
        """Active people who reach `vault` (direct or through a group): who may use its items."""
        groups = {g["group_id"] for g in vault["group_grants"]}
        people = {g["user_id"] for g in vault["user_grants"]}
        people |= {u for u, gs in self.groups_of.items() if gs & groups}
        return sorted(u for u in people if self.users[u]["state"] == "ACTIVE" and self.users[u]["type"] == "MEMBER")

    def use(self, item: Row, user_id: str, when: datetime, *, ip: str | None = None) -> None:
        self.usages.append(
            {
                "uuid": self.new_id().upper(),
                "timestamp": format_ts(when),
                "used_version": 1,
                "vault_uuid": item["vault_id"],
                "item_uuid": item["id"],
                "action": "reveal",
                "user_uuid": user_id,
                "client": "browser-chrome-mac",
                "ip": ip or self.ip_of(user_id),
            }
        )

    def office_time(self, days_ago: int, hour: int = 11) -> datetime:
        day = self.days_ago(days_ago).replace(hour=hour, minute=15, second=0, microsecond=0)
        return day

    def item(
        self,
        vault: Row,
        title: str,
        category: str,
        *,
        age: float = 20,
        changed: float | None = None,
        service: str = "Okta",
        domain: str = "okta.com",
        used: bool = True,
    ) -> Row:
        """A new item that passes every rule: conventional title, tags, notes, a URL on logins,
        fresh strong secrets; created `age` days ago (default 20: inside every rotation period, not
        due soon even in production), its secret changed `changed` days ago
        (default: at creation), used by someone who reaches its vault when it is old enough to
        look abandoned otherwise."""
        env_word = catalog.title_environment(vault["name"], self.klass[vault["id"]])[0]
        row: Row = {
            "id": self.new_id(),
            "vault_id": vault["id"],
            "title": title,
            "category": category,
            "version": 1,
            "state": "ACTIVE",
            "favorite": False,
            "tags": [env_word.lower(), service.lower().replace(" ", "-")],
            "created_at": format_ts(self.days_ago(age)),
            "updated_at": format_ts(self.days_ago(age if changed is None else changed)),
            "last_edited_by": self.service_account["id"],
        }
        row.update(
            build_item(self.rng, self.canaries, category=category, service=service, domain=domain,
                       env_word=env_word, now=self.now)
        )  # fmt: skip
        self.data["items"].append(row)
        self.items[row["id"]] = row
        if used and max(age, changed or 0) > 150:
            people = self.reachers(vault) or [self.service_account["id"]]
            self.use(row, self.rng.choice(people), self.office_time(self.rng.randint(5, 60)))
        return row

    def expect(self, kind: str, subject: Any) -> None:
        self.expected[kind].append(subject)

    def decoy(self, kind: str, subject: Any, reason: str) -> None:
        self.decoys.append({"kind": kind, "subject": subject, "reason": reason})

    # --- 1. the base's planted truth ----------------------------------------------------------------

    def take_base(self) -> None:
        planted = self.data["planted"]
        for kind in ITEM_KINDS:
            self.expected[kind].extend(planted.get(kind, []))
        for kind in GROUP_KINDS:
            self.expected[kind].extend(sorted(group) for group in planted.get(kind, []))
        self.expected["over_permissioned"].extend(planted.get("over_permissioned", []))
        # Pending states with access are reported with a milder reason of their own (rule 1b).
        self.expected["over_permissioned"].extend(planted.get("pending_state", []))
        night_users = {e["user_uuid"] for e in self.usages if e["uuid"] in set(planted.get("break_glass_usages", []))}
        self.expected[ANOMALY_NIGHT].extend(sorted(self.users[u]["email"] for u in night_users))

    # --- 2. align the base with today's rules -------------------------------------------------------

    def align_base(self) -> None:
        planted = self.data["planted"]
        rotation_planted = set(planted.get("overdue_rotation", [])) | set(planted.get("rotation_due_soon", []))
        orphaned = set(planted.get("orphaned", []))
        retired = {i for i in orphaned if {"deprecated", "decommissioned"} & set(self.items[i]["tags"])}
        for item in list(self.items.values()):
            shared_login = (
                item["state"] == "ACTIVE"
                and item["category"] in SHARED_LOGIN_CATEGORIES
                and self.klass[item["vault_id"]] in SHARED_LOGIN_CLASSES
            )
            if not shared_login or item["id"] in rotation_planted:
                continue
            if item["id"] in orphaned and item["id"] not in retired:
                # An abandoned shared login, unchanged for 400 days, is also overdue for rotation.
                changed = self.days_ago(400)
                item["created_at"] = format_ts(min(parse_ts(item["created_at"]), changed))
                item["updated_at"] = format_ts(changed)
                self.expect("overdue_rotation", item["id"])
            else:
                # Rotation rule 3 (logins shared in production and shared vaults rotate): the
                # base's logins there were rotated recently, as its other rotating secrets are.
                item["updated_at"] = format_ts(
                    max(parse_ts(item["created_at"]), self.days_ago(self.rng.uniform(1, 50)))
                )
        # Duplicate rule (copies of one service): every base duplicate group becomes copies —
        # one title and, where an item carries a URL, one host.
        for group in planted.get("duplicate", []):
            members = [self.items[i] for i in group]
            urls: list[Row] = next((m["urls"] for m in members if m["urls"]), [])
            for member in members[1:]:
                member["title"] = members[0]["title"]
                if member["urls"]:
                    member["urls"] = copy.deepcopy(urls)
        # One address per person, so that ordinary use never reads as "several addresses at once".
        for event in self.usages:
            event["ip"] = self.ip_of(event["user_uuid"])

    # --- 3. planted true cases and decoys -----------------------------------------------------------

    def plant_secrets(self) -> None:
        staging, dev = self.vault_of("non-production", 0), self.vault_of("non-production", 1)
        # Reused secret by host: three services behind one value, all outside production.
        a = self.item(staging, "GitHub Staging Deploy Login", "LOGIN", service="GitHub", domain="github.com")
        b = self.item(dev, "Datadog Staging Admin Login", "LOGIN", service="Datadog", domain="datadoghq.com")
        c = self.item(dev, "Sentry Staging Admin Login", "LOGIN", service="Sentry", domain="sentry.io")
        self.share_secret(a, b, c)
        group = sorted(i["id"] for i in (a, b, c))
        self.expect("reused_secret", group)
        self.decoy("duplicate", group, "same secret on three different hosts: reuse across services, not copies")
        self.decoy("shared_across_environments", group, "same secret in two non-production vaults only")
        # Reused secret by title stem: two API keys without URLs, different services.
        d = self.item(staging, "Twilio Staging API Key", "API_CREDENTIAL", service="Twilio", domain="twilio.com")
        e = self.item(dev, "SendGrid Staging API Key", "API_CREDENTIAL", service="SendGrid", domain="sendgrid.com")
        self.share_secret(d, e)
        self.expect("reused_secret", sorted([d["id"], e["id"]]))
        self.decoy("duplicate", sorted([d["id"], e["id"]]), "same secret, different title stems and no URL: reuse")
        # Duplicate by host: same secret, same host, titles that differ.
        f = self.item(staging, "Okta Staging Admin Login", "LOGIN", service="Okta", domain="okta.com")
        g = self.item(dev, "Okta Staging Break Fix Login", "LOGIN", service="Okta", domain="okta.com")
        self.share_secret(f, g)
        self.expect("duplicate", sorted([f["id"], g["id"]]))
        self.decoy("reused_secret", sorted([f["id"], g["id"]]), "same secret, same host: a duplicate, not reuse")
        # One value, two copies of one service and a third service: both findings, each its items.
        h = self.item(staging, "Jira Staging Admin Login", "LOGIN", service="Jira", domain="atlassian.net")
        i = self.item(dev, "Jira Staging Admin Login", "LOGIN", service="Jira", domain="atlassian.net")
        j = self.item(dev, "Slack Staging Admin Login", "LOGIN", service="Slack", domain="slack.com")
        self.share_secret(h, i, j)
        self.expect("duplicate", sorted([h["id"], i["id"]]))
        self.expect("reused_secret", sorted([h["id"], i["id"], j["id"]]))
        # Two accounts on one host sharing one password: reuse to rotate, never copies to archive.
        k = self.item(staging, "Grafana Staging Admin Login", "LOGIN", service="Grafana", domain="grafana.com")
        m = self.item(dev, "Grafana Staging Admin Login", "LOGIN", service="Grafana", domain="grafana.com")
        for row, name in ((k, "first-admin@acme-demo.example"), (m, "second-admin@acme-demo.example")):
            sign_in = next(f for f in row["fields"] if f.get("purpose") == "USERNAME")
            sign_in["value"] = name
        self.share_secret(k, m)
        self.expect("reused_secret", sorted([k["id"], m["id"]]))
        self.decoy("duplicate", sorted([k["id"], m["id"]]), "same host and title, two sign-in names: two accounts")
        # Two concealed fields of one item with one value: not a duplicate of anything.
        server = self.item(staging, "Gitea Staging Server", "SERVER", service="Gitea", domain="gitea.io")
        value = self.canaries.new()
        for field in server["fields"]:
            if field.get("type") == "CONCEALED":
                field["value"] = value
        self.canary(value)
        self.decoy("duplicate", [server["id"]], "two fields of one item share a value: one item is no duplicate")
        self.decoy("reused_secret", [server["id"]], "two fields of one item share a value: one item is no reuse")
        # An archived copy does not count: only active items are compared.
        live = self.item(staging, "Vault Staging Root Login", "LOGIN", service="Vault", domain="vaultproject.io")
        old = self.item(staging, "Vault Staging Root Login Old", "LOGIN", service="Vault", domain="vaultproject.io")
        old["state"] = "ARCHIVED"
        self.share_secret(live, old)
        self.decoy("duplicate", sorted([live["id"], old["id"]]), "the other copy is archived: not active")

    def share_secret(self, *items: Row) -> None:
        value = self.canaries.new()
        self.canary(value)
        for item in items:
            field = next(f for f in item["fields"] if f.get("purpose") == "PASSWORD" or f.get("type") == "CONCEALED")
            field["value"] = value

    def canary(self, value: str) -> None:
        self.data["canaries"].append(value)

    def plant_weak(self) -> None:
        shared = self.vault_of("shared", 0)
        api = self.item(shared, "Mailgun Shared API Key", "API_CREDENTIAL", service="Mailgun", domain="mailgun.com")
        field = next(f for f in api["fields"] if f["id"] == "credential")
        field["value"] = "abc12345"
        self.data["weak_values"].append("abc12345")
        self.expect("weak", api["id"])
        # Not passwords: a card's CVV and PIN, a recovery code, a login's one-time code.
        card = self.item(shared, "Acme Corporate Visa Card", "SECURE_NOTE", service="Visa", domain="visa.com")
        card["category"] = "CREDIT_CARD"
        card["fields"] = [f for f in card["fields"] if f.get("purpose") == "NOTES"] + [
            {"id": "cardholder", "type": "STRING", "label": "cardholder name", "value": "Acme Finance"},
            {"id": "ccnum", "type": "CREDIT_CARD_NUMBER", "label": "number", "value": "4111111111111111"},
            {"id": "cvv", "type": "CONCEALED", "label": "verification number", "value": "731"},
            {"id": "pin", "type": "CONCEALED", "label": "PIN", "value": "4096"},
        ]
        card["sections"] = []
        self.decoy("weak", card["id"], "card CVV and PIN are short but are not passwords")
        recovery = self.item(shared, "Linear Shared API Key", "API_CREDENTIAL", service="Linear", domain="linear.app")
        recovery["fields"].append(
            {"id": "recovery_code", "type": "CONCEALED", "label": "recovery code", "value": "8372-1194"}
        )
        self.decoy("weak", recovery["id"], "a recovery code on an API credential is not a password")
        otp = self.item(shared, "Figma Shared Design Login", "LOGIN", service="Figma", domain="figma.com")
        otp["fields"].append(
            {
                "id": "TOTP_eval",
                "type": "OTP",
                "label": "one-time password",
                "value": self.canaries.new(),
                "totp": "123456",
            }
        )
        self.canary(otp["fields"][-1]["value"])
        self.decoy("weak", otp["id"], "a one-time code is six digits by design: not a password")

    def plant_rotation(self) -> None:
        prod, shared = self.vault_of("production", 1), self.vault_of("shared", 1)
        personal, unclassified = self.vault_of("personal", 0), self.vault_of("unclassified", 0)
        login = self.item(prod, "Grafana Production Admin Login", "LOGIN", age=300, changed=120,
                          service="Grafana", domain="grafana.com")  # fmt: skip
        self.expect("overdue_rotation", login["id"])  # shared production login, 120 > 90 days
        soon = self.item(prod, "Kibana Production Admin Login", "LOGIN", age=300, changed=75,
                         service="Kibana", domain="elastic.co")  # fmt: skip
        self.expect("rotation_due_soon", soon["id"])  # 75 days: due within 30 of the 90-day period
        old = self.item(shared, "Wifi Shared Office Password", "PASSWORD", age=500, changed=400,
                        service="Wifi", domain="acme-demo.example")  # fmt: skip
        self.expect("overdue_rotation", old["id"])  # shared vault, 400 > 365 days
        recent = self.item(shared, "Zoom Shared Host Login", "LOGIN", age=400, changed=200,
                           service="Zoom", domain="zoom.us")  # fmt: skip
        self.decoy("overdue_rotation", recent["id"], "shared vault login changed 200 days ago: within 365 days")
        self.decoy("rotation_due_soon", recent["id"], "shared vault login changed 200 days ago: not due for 165 days")
        own = self.item(personal, "Netflix Personal Login", "LOGIN", age=600, changed=400,
                        service="Netflix", domain="netflix.com")  # fmt: skip
        self.decoy("overdue_rotation", own["id"], "personal vault login unchanged 400 days: must not rotate")
        vendor = self.item(unclassified, "Vendor Corporate Portal Login", "LOGIN", age=600, changed=400,
                           service="Vendor", domain="vendor.example")  # fmt: skip
        self.decoy("overdue_rotation", vendor["id"], "login in an unclassified vault: not known to be shared")

    def plant_orphaned(self) -> None:
        shared = self.vault_of("shared", 2)
        tagged = self.item(shared, "Heroku Shared Runbook Notes", "SECURE_NOTE", age=40, service="Heroku",
                           domain="heroku.com", used=False)  # fmt: skip
        tagged["tags"].append("Deprecated")
        # Retired by tag, never used: reported, with "usage unknown" in its text when coverage is short.
        self.expect("orphaned", tagged["id"])
        stale = self.item(shared, "Bamboo Shared Build Notes", "SECURE_NOTE", age=500, changed=300,
                          service="Bamboo", domain="atlassian.com", used=False)  # fmt: skip
        self.expect("orphaned", stale["id"])
        used = self.item(shared, "Jenkins Shared Build Notes", "SECURE_NOTE", age=500, changed=300,
                         service="Jenkins", domain="jenkins.io")  # fmt: skip
        self.decoy("orphaned", used["id"], "unedited for 300 days but used recently")
        young = self.item(shared, "Circle Shared Build Notes", "SECURE_NOTE", age=100, service="Circle",
                          domain="circleci.com", used=False)  # fmt: skip
        self.decoy("orphaned", young["id"], "never used but created 100 days ago: too young to be abandoned")
        soon = self.item(shared, "Travis Shared Build Notes", "SECURE_NOTE", age=40, service="Travis",
                         domain="travis-ci.com", used=False)  # fmt: skip
        soon["tags"].append("deprecation-planned")
        self.decoy("orphaned", soon["id"], "tag 'deprecation-planned' is not a retired tag")

    def plant_naming_and_metadata(self) -> None:
        shared, personal = self.vault_of("shared", 0), self.vault_of("personal", 1)
        generic = self.item(shared, "  api KEY ", "API_CREDENTIAL", service="Plaid", domain="plaid.com")
        self.expect("unclear_name", generic["id"])
        own = self.item(personal, "Password", "PASSWORD", service="Home", domain="acme-demo.example")
        self.decoy("unclear_name", own["id"], "generic title in a personal vault: exempt")
        wordy = self.item(shared, "Password Manager Corporate Recovery Notes", "SECURE_NOTE", service="Bitwarden",
                          domain="bitwarden.com")  # fmt: skip
        self.decoy("unclear_name", wordy["id"], "contains a generic word but follows the naming convention")
        no_url = self.item(shared, "Asana Shared Team Login", "LOGIN", service="Asana", domain="asana.com")
        no_url["urls"] = []
        self.expect("missing_metadata", no_url["id"])
        api = self.item(shared, "Stripe Shared API Key", "API_CREDENTIAL", service="Stripe", domain="stripe.com")
        self.decoy("missing_metadata", api["id"], "an API credential without a URL: URLs are required on logins only")
        no_notes = self.item(shared, "Miro Shared Board Login", "LOGIN", service="Miro", domain="miro.com")
        for field in no_notes["fields"]:
            if field["id"] == "notesPlain":
                field.pop("value", None)
        self.expect("missing_metadata", no_notes["id"])

    def plant_expiring(self) -> None:
        shared = self.vault_of("shared", 1)
        for title, days, expected in (
            ("Apple Shared Push Certificate", 10, True),
            ("Google Shared Maps API Key", -3, True),
            ("Azure Shared Storage API Key", 60, False),
        ):
            item = self.item(shared, title, "API_CREDENTIAL", service=title.split()[0], domain="example.com")
            when = self.now + timedelta(days=days)
            for field in item["fields"]:
                if field["id"] == "expires":
                    field["value"] = str(int(when.timestamp()))
            if expected:
                self.expect("expiring", item["id"])
            else:
                self.decoy("expiring", item["id"], "expires in 60 days: beyond the 30-day horizon")

    # --- people ---------------------------------------------------------------------------------

    def person(self, name: str, state: str = "ACTIVE", kind: str = "MEMBER") -> Row:
        slug = name.lower().replace(" ", ".")
        joined = format_ts(self.days_ago(300))
        user = {
            "id": self.new_id().upper(), "name": name, "email": f"{slug}@acme-demo.example", "type": kind,
            "state": state, "created_at": joined, "updated_at": joined, "last_auth_at": format_ts(self.days_ago(2)),
        }  # fmt: skip
        self.data["users"].append(user)
        self.users[user["id"]] = user
        return user

    def grant(self, user: Row, vault: Row, permissions: list[str], *, used: bool = True) -> None:
        vault["user_grants"].append({"user_id": user["id"], "permissions": permissions})
        if used:
            item = next(i for i in self.data["items"] if i["vault_id"] == vault["id"] and i["state"] == "ACTIVE")
            self.use(item, user["id"], self.office_time(self.rng.randint(3, 60)))

    def plant_people(self) -> None:
        # No group: their peers are everybody, so the breadth rule judges them against the whole
        # organisation, and the base's team peers are unchanged.
        vault = self.vault_of("shared", 2)
        for state in USER_STATES:
            label = state.replace("_", " ").title()
            with_access = self.person(f"Eval {label} Holder", state)
            self.grant(with_access, vault, list(catalog.NORMAL_PERMISSIONS), used=state == "ACTIVE")
            without = self.person(f"Eval {label} Bystander", state)
            self.decoy("over_permissioned", without["id"], f"{state} without any vault access: nothing to revoke")
            if state in INACTIVE_STATES:
                self.expect("over_permissioned", with_access["id"])
            elif state in PENDING_STATES:
                self.expect("over_permissioned", with_access["id"])  # rule 1b: confirm with the person
            else:
                self.decoy("over_permissioned", with_access["id"], "active, one used direct grant with normal rights")
        # Legacy (Teams / op 2.6) permission names: editing includes export, managing is manage_vault.
        viewer = self.person("Eval Legacy Viewer")
        self.grant(viewer, vault, ["allow_viewing"])
        self.decoy("over_permissioned", viewer["id"], "legacy allow_viewing grant: view rights only")
        editor = self.person("Eval Legacy Editor")
        self.grant(editor, vault, ["allow_viewing", "allow_editing"])
        self.expect("over_permissioned", editor["id"])  # allow_editing includes export_items
        manager = self.person("Eval Legacy Manager")
        self.grant(manager, vault, ["allow_viewing", "allow_editing", "allow_managing"])
        self.expect("over_permissioned", manager["id"])
        via_group = self.person("Eval Legacy Group Manager")
        group_id = self.new_id()
        created = format_ts(self.days_ago(300))
        self.data["groups"].append(
            {"id": group_id, "name": "Eval Vault Keepers", "description": "Manage one vault.", "state": "ACTIVE",
             "type": "USER_DEFINED", "created_at": created, "updated_at": created, "permissions": [],
             "members": [{"user_id": via_group["id"], "role": "MEMBER"}]}
        )  # fmt: skip
        vault["group_grants"].append({"group_id": group_id, "permissions": ["allow_viewing", "allow_managing"]})
        self.groups_of.setdefault(via_group["id"], set()).add(group_id)
        self.decoy("over_permissioned", via_group["id"], "allow_managing through a group, not a direct grant")
        # The sync's own identity holds a direct grant on every vault and uses none of them.
        self.decoy("over_permissioned", self.service_account["id"], "the service account OpenClaw syncs as")
        robot = self.person("Eval Deploy Robot", kind="SERVICE_ACCOUNT")
        for other in [v for v in self.data["vaults"] if self.klass[v["id"]] != "personal"][:12]:
            self.grant(robot, other, list(catalog.SERVICE_ACCOUNT_PERMISSIONS), used=False)
        self.decoy("over_permissioned", robot["id"], "another service account: unused broad access is its job")

    # --- access anomalies (compliance reports), in production vaults ---------------------------------

    def plant_anomalies(self) -> None:
        prod = self.vault_of("production", 0)
        people = self.reachers(prod)
        spread = self.item(prod, "Anomaly Production Spread Key", "API_CREDENTIAL", service="Anomaly",
                           domain="example.com")  # fmt: skip
        start = self.office_time(9, hour=10).replace(minute=59, second=30)
        for offset, user_id in zip((0, 20, 40), people[:3], strict=True):
            self.use(spread, user_id, start + timedelta(seconds=offset))
        self.expect(ANOMALY_SPREAD, spread["title"])
        for user_id in people[:3]:
            self.decoy(
                ANOMALY_ADDRESSES, self.users[user_id]["email"], "one address each: the item is spread, not the person"
            )
        calm = self.item(prod, "Calm Production Batch Key", "API_CREDENTIAL", service="Calm", domain="example.com")
        steady = people[3]
        for n in range(15):
            self.use(calm, steady, self.office_time(8, hour=14) + timedelta(seconds=2 * n))
        self.decoy(ANOMALY_SPREAD, calm["title"], "one person, one address, many uses")
        self.decoy(ANOMALY_ADDRESSES, self.users[steady]["email"], "one person, one address, many uses")
        self.decoy(ANOMALY_BURST, self.users[steady]["email"], "15 uses within an hour: below the burst threshold")
        traveller = people[4]
        when = self.office_time(7, hour=15)
        self.use(calm, traveller, when, ip="192.0.2.10")
        self.use(calm, traveller, when + timedelta(minutes=20), ip="192.0.2.200")
        self.expect(ANOMALY_ADDRESSES, self.users[traveller]["email"])
        burst = people[5]
        for n in range(25):
            self.use(calm, burst, self.office_time(6, hour=16) + timedelta(seconds=60 * n))
        self.expect(ANOMALY_BURST, self.users[burst]["email"])
        late = people[6]
        self.use(calm, late, self.office_time(5, hour=21).replace(minute=40))
        self.decoy(ANOMALY_NIGHT, self.users[late]["email"], "21:40 UTC is before the 22:00-06:00 night window")
        staging = self.vault_of("non-production", 0)
        owl = next(u for u in self.reachers(staging) if u not in people)
        night_item = next(i for i in self.data["items"] if i["vault_id"] == staging["id"] and i["state"] == "ACTIVE")
        self.use(night_item, owl, self.office_time(5, hour=2))
        self.decoy(ANOMALY_NIGHT, self.users[owl]["email"], "night use in a non-production vault: not reported")

    # --- break-glass (vaults/breakglass/): an emergency vault and its uses ---------------------------

    def plant_break_glass(self) -> None:
        """A vault named "Emergency Access" (inferred emergency) whose items were used: each use
        older than 24 h has no reason (the file cannot carry one), so each is reason_missing; the
        rotation cases differ. Reasons given in time are tested with the database
        (tests/vaults/breakglass/)."""
        prod = self.vault_of("production", 0)
        created = format_ts(self.days_ago(300))
        vault: Row = {
            "id": self.new_id(), "name": "Emergency Access", "description": "Break-glass credentials.",
            "type": "USER_CREATED", "content_version": 0, "attribute_version": 1, "created_at": created,
            "updated_at": "", "created_by": self.service_account["id"],
            "user_grants": [{"user_id": self.service_account["id"],
                             "permissions": list(catalog.SERVICE_ACCOUNT_PERMISSIONS)}],
            "group_grants": copy.deepcopy(prod["group_grants"]),
        }  # fmt: skip
        self.data["vaults"].append(vault)
        self.vaults[vault["id"]] = vault
        self.klass[vault["id"]] = "emergency"
        people = self.reachers(vault)
        night = self.days_ago(3).replace(hour=3, minute=5, second=0, microsecond=0)

        def used(title: str, service: str, domain: str, when: datetime, user: str) -> Row:
            row = self.item(vault, title, "LOGIN", service=service, domain=domain)
            self.use(row, user, when)
            self.use(row, user, when + timedelta(minutes=12))  # one emergency: a second use minutes later
            return row

        in_time = used("AWS Production Root Login", "AWS", "aws.amazon.com", night, people[0])
        in_time["updated_at"] = format_ts(night + timedelta(hours=5))
        self.expect("emergency_reason_missing", in_time["id"])
        self.decoy("emergency_rotation_late", in_time["id"], "rotated 5 h after the use: in time")
        never = used("Postgres Production Superuser Login", "Postgres", "postgresql.org", night - timedelta(days=1),
                     people[1])  # fmt: skip
        never["updated_at"] = format_ts(self.days_ago(20))
        self.expect("emergency_reason_missing", never["id"])
        self.expect("emergency_rotation_late", never["id"])  # last changed 20 days before the use: does not count
        late_use = self.days_ago(2).replace(hour=2, minute=40, second=0, microsecond=0)
        late = used("Cloudflare Production Owner Login", "Cloudflare", "cloudflare.com", late_use, people[2])
        late["updated_at"] = format_ts(late_use + timedelta(hours=30))
        self.expect("emergency_reason_missing", late["id"])
        self.decoy("emergency_rotation_late", late["id"], "rotated 30 h after the use: late, but rotated (resolved)")
        fresh = used("Okta Production Super Admin Login", "Okta", "okta.com", self.now - timedelta(hours=6), people[3])
        self.decoy("emergency_reason_missing", fresh["id"], "used 6 h ago: the reason is not due yet")
        self.decoy("emergency_rotation_late", fresh["id"], "used 6 h ago: rotation not due yet")
        unused = self.item(vault, "GitHub Production Owner Login", "LOGIN", service="GitHub", domain="github.com")
        self.decoy("emergency_reason_missing", unused["id"], "an emergency item nobody used")
        ordinary = self.item(prod, "Vault Production Unseal Login", "LOGIN", service="Vault", domain="vaultproject.io")
        self.use(ordinary, people[4], self.office_time(3))
        self.decoy("emergency_reason_missing", ordinary["id"], "used in a production vault: not break-glass")
        self.decoy("emergency_rotation_late", ordinary["id"], "used in a production vault: not break-glass")

    # --- leavers (vaults/offboarding/): what each suspended member's plan must list ------------------

    def label_leavers(self, lookback_days: int = 90) -> None:
        """For each suspended member (the base plants them, and demo_leavers.py gives them item use
        before they left): the live items they used in the lookback window, which their rotation plan
        must list; and decoys it must not: items only other people used, in vaults the leaver does
        not reach. Subjects are op item ids. Labelled from the events as planted, never by a rule."""
        since = self.days_ago(lookback_days)
        reach: dict[str, set[str]] = {}
        for vault in self.data["vaults"]:
            groups = {g["group_id"] for g in vault["group_grants"]}
            people = {g["user_id"] for g in vault["user_grants"]} | {u for u, gs in self.groups_of.items() if gs & groups}
            for person in people:
                reach.setdefault(person, set()).add(vault["id"])
        leavers = sorted(u["id"] for u in self.data["users"] if u["type"] == "MEMBER" and u["state"] in INACTIVE_STATES)
        labels = []
        for user_id in leavers:
            used = sorted({
                e["item_uuid"] for e in self.usages
                if e["user_uuid"] == user_id and parse_ts(e["timestamp"]) >= since
                and self.items.get(e["item_uuid"], {}).get("state") == "ACTIVE"
            })  # fmt: skip
            others = sorted({
                e["item_uuid"] for e in self.usages
                if e["user_uuid"] != user_id and e["vault_uuid"] not in reach.get(user_id, set())
                and self.items.get(e["item_uuid"], {}).get("state") == "ACTIVE"
            } - set(used))[:5]  # fmt: skip
            labels.append({"user_id": user_id, "email": self.users[user_id]["email"], "used_items": used,
                           "decoy_items": others})
        self.data["offboarding_labels"] = labels

    # --- time-limited access (vaults/access_expiry/): contractors and guests with end dates ----------

    def end_date(self, user: Row, days: int, vaults: list[Row] | None = None) -> None:
        """An end date `days` from now (negative: past). End dates are OpenClaw's data, not op's:
        they travel under `openclaw` and the test seeds them after the sync
        (vaults/access_expiry/evaluation.py)."""
        self.data.setdefault("openclaw", {}).setdefault("access_end_dates", []).append(
            {"user_id": user["id"], "ends_on": (self.now + timedelta(days=days)).date().isoformat(),
             "vault_ids": None if vaults is None else [v["id"] for v in vaults]}
        )  # fmt: skip

    def plant_end_dates(self) -> None:
        shared, other = self.vault_of("shared", 2), self.vault_of("shared", 1)
        rights = list(catalog.NORMAL_PERMISSIONS)
        past = self.person("Eval Contractor Past")
        self.grant(past, shared, rights)
        self.end_date(past, -5)
        self.expect("access_past_end_date", past["id"])
        today = self.person("Eval Contractor Ends Today")
        self.grant(today, shared, rights)
        self.end_date(today, 0)
        self.expect("access_past_end_date", today["id"])
        via_group = self.person("Eval Contractor Group Past")
        group_id = self.new_id()
        created = format_ts(self.days_ago(300))
        self.data["groups"].append(
            {"id": group_id, "name": "Eval Contractors", "description": "Contractors.", "state": "ACTIVE",
             "type": "USER_DEFINED", "created_at": created, "updated_at": created, "permissions": [],
             "members": [{"user_id": via_group["id"], "role": "MEMBER"}]}
        )  # fmt: skip
        shared["group_grants"].append({"group_id": group_id, "permissions": rights})
        self.groups_of.setdefault(via_group["id"], set()).add(group_id)
        self.end_date(via_group, -2)
        self.expect("access_past_end_date", via_group["id"])  # a group grant is access too
        scoped = self.person("Eval Contractor Vault Past")
        self.grant(scoped, shared, rights)
        self.grant(scoped, other, rights)
        self.end_date(scoped, -3, vaults=[shared])
        self.expect("access_past_end_date", scoped["id"])
        guest = self.person("Eval Guest Past", kind="GUEST")
        self.grant(guest, shared, rights)
        self.end_date(guest, -1)
        self.expect("access_past_end_date", guest["id"])
        soon = self.person("Eval Contractor Soon")
        self.grant(soon, shared, rights)
        self.end_date(soon, 5)
        self.decoy("access_past_end_date", soon["id"], "end date in five days: not passed")
        far = self.person("Eval Contractor Far")
        self.grant(far, shared, rights)
        self.end_date(far, 120)
        self.decoy("access_past_end_date", far["id"], "end date in 120 days")
        gone = self.person("Eval Contractor Access Removed")
        self.end_date(gone, -10)
        self.decoy("access_past_end_date", gone["id"], "end date passed, but no grant or membership is left")
        elsewhere = self.person("Eval Contractor Other Vault")
        self.grant(elsewhere, other, rights)
        self.end_date(elsewhere, -4, vaults=[shared])
        self.decoy("access_past_end_date", elsewhere["id"], "ended on one vault; only another vault is left")
        visitor = self.person("Eval Guest Visitor", kind="GUEST")
        self.grant(visitor, shared, rights)
        self.decoy("access_past_end_date", visitor["id"], "a guest on the default end date, 90 days after first seen")
        robot = self.person("Eval Contractor Robot", kind="SERVICE_ACCOUNT")
        self.grant(robot, shared, list(catalog.SERVICE_ACCOUNT_PERMISSIONS), used=False)
        self.end_date(robot, -6)
        self.decoy("access_past_end_date", robot["id"], "a service account: its access is not an engagement")
        self.decoy("over_permissioned", robot["id"], "a service account with one grant it has not used")
        deleted = self.person("Eval Contractor Deleted", state="DELETED")
        self.grant(deleted, shared, rights, used=False)
        self.end_date(deleted, -6)
        self.decoy("access_past_end_date", deleted["id"], "deleted from 1Password: nothing left to end")
        self.expect("over_permissioned", deleted["id"])  # a deleted person still holding a grant: revoke it

    # --- finish -------------------------------------------------------------------------------------

    def finish(self) -> dict[str, Any]:
        by_vault: dict[str, list[Row]] = {}
        for item in self.data["items"]:
            by_vault.setdefault(item["vault_id"], []).append(item)
        for vault in self.data["vaults"]:
            items = by_vault.get(vault["id"], [])
            vault["content_version"] = sum(i["version"] for i in items) + len(items) + 1
            vault["updated_at"] = max([vault["created_at"], *(i["updated_at"] for i in items)])
        self.usages.sort(key=lambda event: event["timestamp"])
        expected = {kind: sorted(subjects) for kind, subjects in self.expected.items()}
        self.data["labels"] = {"subject_of": dict(SUBJECT_OF), "expected": expected, "decoys": self.decoys}
        return self.data


def generate_evaluation_organisation(
    *, seed: int = 1212, now: datetime, items: int = 2000, users: int = 200, vaults: int = 40, groups: int = 12
) -> dict[str, Any]:
    """The labelled evaluation organisation (module docstring); same arguments, same file."""
    data = generate_organisation(seed=seed, vaults=vaults, items=items, users=users, groups=groups, now=now)
    labeller = _Labeller(data, seed=seed, now=now)
    labeller.take_base()
    labeller.align_base()
    labeller.plant_secrets()
    labeller.plant_weak()
    labeller.plant_rotation()
    labeller.plant_orphaned()
    labeller.plant_naming_and_metadata()
    labeller.plant_expiring()
    labeller.plant_people()
    labeller.plant_anomalies()
    labeller.plant_end_dates()
    labeller.plant_break_glass()
    labeller.label_leavers()
    return labeller.finish()
