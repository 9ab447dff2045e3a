"""Which items holding one secret are copies of one credential, and which are different services.

Rule (docs/findings-rules.md, "Duplicate or reused"): two active items with the same secret
fingerprint are **copies** of one credential when they stand for the same account of the same service:
0. two different sign-in names are two accounts, never copies (one password behind `alice` and
   `bob` at github.com is a reused password);
1. both have a URL and their hosts are equal (`www.` and case ignored), or
2. their normalised title stems are equal and not empty, their URL hosts do not disagree
   (equal, or at least one item has no URL), and their sign-in names are the same (or neither
   item has one).
The stem drops environment words, kind-of-secret words, copy markers and numbers, so "Stripe
Production API Key" and "stripe key (copy)" are both `stripe`. Copies are grouped transitively
(connected components). Sign-in names are compared by their keyed fingerprints
(`Item.username_fingerprint`): the inventory never keeps the name itself.

Components of two or more items are duplicates (archive all but one). A fingerprint spread over
two or more components is a reused secret (rotate all but one at the source, never archive).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:  # the rule itself is pure: the fake `op` demo generator imports it without Django
    from vaults.models import Item

ENVIRONMENT_WORDS = frozenset(
    {"production", "prod", "prd", "live", "staging", "stage", "stg", "development", "dev", "test", "testing",
     "qa", "uat", "sandbox", "shared", "corporate", "corp", "nonprod", "preprod"}
)  # fmt: skip
KIND_WORDS = frozenset(
    {"api", "key", "keys", "password", "passwd", "pwd", "login", "token", "secret", "secrets", "credential",
     "credentials", "creds", "cred", "ssh", "server", "database", "db", "account", "acct", "item", "pw"}
)  # fmt: skip
COPY_WORDS = frozenset({"copy", "old", "new", "backup", "bak", "duplicate", "dup", "tmp", "temp", "the", "of", "for"})
_WORD = re.compile(r"[a-z0-9]+")


def title_stem(title: str) -> str:
    """The words of a title that name the service: lower-cased, without environment, kind and
    copy words or bare numbers. '' when nothing is left."""
    words = _WORD.findall((title or "").lower())
    kept = [
        w for w in words
        if w not in ENVIRONMENT_WORDS and w not in KIND_WORDS and w not in COPY_WORDS and not w.isdigit()
        and not re.fullmatch(r"v\d+", w)
    ]  # fmt: skip
    return " ".join(kept)


def url_host(urls: Any) -> str:
    """Host of the primary URL (else the first) of an item's `urls` list; '' when there is none."""
    if not isinstance(urls, list):
        return ""
    entries = [u for u in urls if isinstance(u, dict) and isinstance(u.get("href"), str) and u["href"].strip()]
    if not entries:
        return ""
    primary = next((u for u in entries if u.get("primary")), entries[0])
    href = str(primary["href"]).strip()
    if "://" not in href:
        href = "https://" + href
    try:
        host = urlsplit(href).hostname or ""
    except ValueError:
        return ""
    return host.lower().removeprefix("www.")


def same_service(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two items (dicts with `title`, `urls` and the `username` fingerprint) stand for the
    same account of the same service (module rule)."""
    user_a, user_b = str(a.get("username") or ""), str(b.get("username") or "")
    if user_a and user_b and user_a != user_b:  # two accounts, whatever else they share
        return False
    host_a, host_b = url_host(a.get("urls")), url_host(b.get("urls"))
    if host_a and host_b:  # two hosts decide alone: different hosts are different services
        return host_a == host_b
    stem_a, stem_b = title_stem(str(a.get("title") or "")), title_stem(str(b.get("title") or ""))
    return bool(stem_a) and stem_a == stem_b and user_a == user_b


def copy_components(items: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Items of one fingerprint split into services: each component holds the copies of one
    credential, in the input order. Quadratic in the group size, which is a handful of items."""
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            if same_service(items[i], items[j]):
                parent[root(j)] = root(i)
    components: dict[int, list[dict[str, Any]]] = {}
    for index, item in enumerate(items):
        components.setdefault(root(index), []).append(item)
    return list(components.values())


def service_label(component: Iterable[dict[str, Any]]) -> str:
    """How a service is named in an explanation: its URL host, else its title stem."""
    members = list(component)
    for item in members:
        host = url_host(item.get("urls"))
        if host:
            return host
    return title_stem(str(members[0].get("title") or "")) or "untitled"


def item_facts(item: Item) -> dict[str, Any]:
    return {"title": item.title, "urls": item.urls, "username": item.username_fingerprint}


def not_copies_of(keep: Item, others: Sequence[Item]) -> list[Item]:
    """The items of `others` that are not copies of `keep`: they share no secret fingerprint with
    it, or they stand for another service (`same_service`). Archiving one of those would lose a
    live credential, so a consolidation refuses them. Two queries."""
    from vaults.models import SecretField  # here, not at the top: the module stays Django-free
    kept_prints = set(
        SecretField.objects.filter(item=keep, fingerprint__isnull=False).exclude(fingerprint="")
        .values_list("fingerprint", flat=True)
    )  # fmt: skip
    shared = set(
        SecretField.objects.filter(item__in=[o.pk for o in others], fingerprint__in=sorted(kept_prints))
        .values_list("item_id", flat=True)
    )  # fmt: skip
    return [o for o in others if o.pk not in shared or not same_service(item_facts(keep), item_facts(o))]


def describe(items: Iterable[Item]) -> str:
    """“Title” (Vault), … — how a plan or an error names items."""
    return ", ".join(f"“{i.title[:120]}” ({i.vault.name[:80]})" for i in items)
