"""The long lists other than findings at scale: `make bench BENCH=lists` (issue #17 item 3).

Plants, in a throwaway database (`bench_lists`, kept with BENCH_KEEPDB=1), an audit log of
BENCH_LISTS_AUDIT entries (default 1,000,000: a year of a busy organisation, where every API call
and export adds one), one vault of BENCH_LISTS_ITEMS items (default 20,000) and 1,000 people. Then
times, through the test client (middleware, form, queries, template; no fragment cache), the htmx
table of each list's first page and of the page after its 25,000th row (or the middle of a shorter
list: the cursor taken once, untimed), next to the old way (Paginator: COUNT(*) + OFFSET) for the
same depth; for the audit log also a filtered page and the whole page (its filter menus).
Target, as for the findings list: a deep page < 50 ms.
"""

from __future__ import annotations

import os

from django.test import Client

from bench.timing import get, timed

DATABASE = "bench_lists"
DEPTH = 25_000
TARGET_PAGE_MS = 50.0
AUDIT_ENTRIES = int(os.environ.get("BENCH_LISTS_AUDIT", 1_000_000))
VAULT_ITEMS = int(os.environ.get("BENCH_LISTS_ITEMS", 20_000))
PEOPLE = 1_000
ACTIONS = ("api.findings.listed", "sign_in.succeeded", "report.generated", "cleanup.approved", "finding.accepted")


def _plant() -> str:
    """Rows written in SQL as the product would leave them (the audit rows' hashes are not a
    chain: no page reads them as one)."""
    from django.db import connection

    from vaults.models import Account, Item, OpUser, Vault

    account = Account.objects.create(name="lists")
    vault = Vault.objects.create(account=account, op_id="listsvault", name="Big vault")
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO compliance_auditlogentry (seq, created_at, actor_label, action, target_type, target_id,
                   target_label, ip_address, details, prev_hash, entry_hash, hash_scheme)
               SELECT g, now() - (%s - g) * interval '30 seconds', 'user' || (g %% 50), (%s::text[])[1 + g %% 5],
                   (ARRAY['', 'findings.finding', 'vaults.vault'])[1 + g %% 3], (g %% 1000)::text, 'target ' || g,
                   '10.0.0.1', '{}'::jsonb, md5((g - 1)::text) || md5((g - 1)::text), md5(g::text) || md5(g::text),
                   'hmac-sha256'
               FROM generate_series(1, %s) g""",
            [AUDIT_ENTRIES, list(ACTIONS), AUDIT_ENTRIES],
        )
    Item.objects.bulk_create(
        [Item(vault=vault, op_id=f"item{n:06d}", title=f"Service {n % 997} credential {n}", category="LOGIN", tags=[])
         for n in range(VAULT_ITEMS)], batch_size=5000,
    )  # fmt: skip
    OpUser.objects.bulk_create(
        [OpUser(account=account, op_id=f"user{n:05d}", name=f"Person {n:04d}", email=f"p{n}@example.com", state="ACTIVE")
         for n in range(PEOPLE)]
    )  # fmt: skip
    return f"audit entries={AUDIT_ENTRIES}, items in one vault={VAULT_ITEMS}, people={PEOPLE}"


def _planted() -> bool:
    from vaults.models import Account

    return Account.objects.filter(name="lists").exists()


def run() -> None:
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.core.paginator import Paginator
    from django.urls import reverse

    from bench.big_org import bench_database
    from compliance.audit_queries import filtered_entries
    from openclaw_web.keyset import keyset_page
    from openclaw_web.roles import Role
    from vaults import inventory
    from vaults.models import OpUser, Vault
    from vaults.views.people import PEOPLE_ORDER, _people
    from vaults.views.vaults import ITEM_ORDER

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    with bench_database(DATABASE, _plant, _planted):
        user, _ = User.objects.get_or_create(username="bench_admin")
        user.groups.add(Group.objects.get_or_create(name=Role.ADMIN.value)[0])
        client = Client()
        client.force_login(user)
        vault = Vault.objects.get(op_id="listsvault")
        people = OpUser.objects.filter(account__name="lists").order_by(*PEOPLE_ORDER)
        cases = [
            ("audit log", reverse("audit:list"), filtered_entries(), ("-seq",)),
            ("audit log, one action", f"{reverse('audit:list')}?action=cleanup.approved",
             filtered_entries(action="cleanup.approved"), ("-seq",)),
            ("vault items", reverse("vaults:detail", args=[vault.pk]), inventory.vault_items(vault), ITEM_ORDER),
            ("people", reverse("vaults:people"), _people(q="", account=None, state=""), PEOPLE_ORDER),
        ]  # fmt: skip
        print(f"load average {os.getloadavg()}; {people.count():,} people")
        print(
            f"{'list':<24} {'rows':>10} {'first page':>16} {'deep page (keyset)':>20} {'deep (COUNT+OFFSET, old)':>26}"
        )
        worst = 0.0
        for label, url, queryset, order in cases:
            total = queryset.count()
            depth = min(DEPTH, total // 2)
            deep_id = queryset.order_by(*order).values_list("pk", flat=True)[depth - 1]
            joiner = "&" if "?" in url else "?"
            first = timed(get(client, url))
            deep = timed(get(client, f"{url}{joiner}after={deep_id}"))

            def old(queryset: object = queryset, order: tuple[str, ...] = order, depth: int = depth) -> object:
                page = Paginator(queryset.order_by(*order), 50).get_page(depth // 50 + 1)  # type: ignore[attr-defined]
                return list(page), page.paginator.count

            before = timed(old)

            def new(queryset: object = queryset, order: tuple[str, ...] = order, after: int = deep_id) -> object:
                return keyset_page(queryset, order=order, after=after)  # type: ignore[arg-type]

            keyset_only = timed(new)
            worst = max(worst, deep[1])
            print(
                f"{label:<24} {total:>10,} {first[0]:6.1f} / {first[1]:5.1f} ms {deep[0]:8.1f} / {deep[1]:5.1f} ms "
                f"{before[0]:12.1f} / {before[1]:6.1f} ms   (median / p95; the deep query alone {keyset_only[0]:.1f} ms)"
            )
        print(
            f"deep page, worst {worst:.1f} ms (target < {TARGET_PAGE_MS:.0f} ms) {'ok' if worst < TARGET_PAGE_MS else 'SLOW'}"
        )
        whole = timed(get(client, reverse("audit:list"), htmx=False))
        print(
            f"audit log, whole page (filter menus included): {whole[0]:.1f} / {whole[1]:.1f} ms; load average {os.getloadavg()}"
        )
