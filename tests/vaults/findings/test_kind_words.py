"""A finding's kind words ("duplicate", "reused", "rotation") are matched per kind, not stored in
every finding's search text (vaults/findings/models.py KIND_SEARCH_WORDS): the findings list, the
API and the global search still find findings by them, and only those.

The findings come from the engine. Expected titles are written by hand from what each finding is
about; the decoys carry the word only where no search looks (a title, an explanation) or are of
another kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.security.planted import bearer_for
from tests.vaults.factories import make_finding, make_item, make_secret
from vaults import search
from vaults.findings.engine import compute_findings
from vaults.findings.models import KIND_SEARCH_WORDS, Finding
from vaults.findings.search import filtered_findings

pytestmark = pytest.mark.django_db

COPIED = "ab" * 32
REUSED = "cd" * 32
STRIPE = [{"label": "website", "href": "https://dashboard.stripe.example", "primary": True}]
ALGOLIA = [{"label": "website", "href": "https://ci.algolia.example", "primary": True}]
BASTION = [{"label": "website", "href": "https://bastion.aws.example", "primary": True}]

DUPLICATED_EXPORT = "Weak secret: Duplicated Invoices Production Export"  # the word in its item title


@pytest.fixture
def org(account, prod_vault, dev_vault) -> dict[str, Any]:
    copies = [make_item(vault=prod_vault, title=f"Stripe Production Key {n}", urls=STRIPE) for n in range(2)]
    for item in copies:
        make_secret(item=item, fingerprint=COPIED)
    algolia = make_item(vault=prod_vault, title="Algolia Production Build Server", category="SERVER", urls=ALGOLIA)
    bastion = make_item(vault=dev_vault, title="AWS Development Bastion Server", category="SERVER", urls=BASTION)
    for item in (algolia, bastion):
        make_secret(item=item, fingerprint=REUSED)
    make_secret(item=make_item(vault=prod_vault, title="Duplicated Invoices Production Export"), zxcvbn_score=0, length=6,
                strength="TERRIBLE")  # fmt: skip
    compute_findings(account=account)
    # Decoys: the words in a title or an explanation only, which no search reads.
    make_finding(account=account, title="Reused and duplicate passwords report", search_text="quarterly audit notes",
                 explanation="Lists every duplicate and reused secret.")  # fmt: skip
    return {"account": account}


def _title_of(kind: str) -> str:
    return Finding.objects.get(kind=kind).title


def _titles(findings: Any) -> set[str]:
    return {f.title for f in findings}


def test_the_engine_no_longer_writes_its_kinds_words_into_each_search_text(org) -> None:
    duplicate = Finding.objects.get(kind=Finding.Kind.DUPLICATE)
    reused = Finding.objects.get(kind=Finding.Kind.REUSED_SECRET)

    assert "stripe production key 0" in duplicate.search_text
    assert "duplicate" not in duplicate.search_text and "secret" not in duplicate.search_text
    assert "reused" not in reused.search_text and "reused_secret" not in reused.search_text


def test_a_kind_word_finds_that_kinds_findings_on_the_list_and_not_the_decoys(org) -> None:
    duplicate_title, reused_title = _title_of(Finding.Kind.DUPLICATE), _title_of(Finding.Kind.REUSED_SECRET)
    assert _titles(filtered_findings(q="duplicate")) == {duplicate_title, DUPLICATED_EXPORT}
    assert _titles(filtered_findings(q="DUPLICATE stripe")) == {duplicate_title}
    assert _titles(filtered_findings(q="reused")) == {reused_title}
    assert _titles(filtered_findings(q="reused_secret algolia")) == {reused_title}
    assert _titles(filtered_findings(q="reused bastion")) == {reused_title}
    assert _titles(filtered_findings(q="reused stripe")) == set()  # both words needed, as before
    weak = _titles(filtered_findings(q="weak"))
    assert DUPLICATED_EXPORT in weak and "Reused and duplicate passwords report" in weak  # a weak-kind decoy


def test_the_page_and_the_api_find_by_kind_words_too(org, client_for: Callable[[User], Client], viewer: User) -> None:
    duplicate_title, reused_title = _title_of(Finding.Kind.DUPLICATE), _title_of(Finding.Kind.REUSED_SECRET)
    api = Client(headers=bearer_for(viewer))
    for query, expected in (("duplicate", {duplicate_title, DUPLICATED_EXPORT}), ("reused", {reused_title})):
        page = client_for(viewer).get("/findings/", {"q": query})
        listed = api.get("/api/v1/findings", {"q": query}).json()["results"]
        assert _titles(page.context["page"]) == expected, query
        assert {f["title"] for f in listed} == expected, query


def _found(viewer: User, query: str) -> set[str]:
    return {
        hit.label for group in search.search(viewer, query).groups if group.kind == "findings" for hit in group.hits
    }


def test_the_global_search_finds_by_kind_words_typos_included(org, viewer: User) -> None:
    duplicate_title, reused_title = _title_of(Finding.Kind.DUPLICATE), _title_of(Finding.Kind.REUSED_SECRET)
    assert _found(viewer, "duplicate") == {duplicate_title, DUPLICATED_EXPORT}
    assert _found(viewer, "duplicate stripe") == {duplicate_title}
    assert _found(viewer, "reused") == {reused_title}
    assert _found(viewer, "reusd algolia") == {reused_title}  # a typo, as in any document
    assert _found(viewer, "reused stripe") == set()


def test_the_global_search_ranks_a_kind_word_as_part_of_the_document(account, viewer: User) -> None:
    by_kind = make_finding(account=account, kind=Finding.Kind.DUPLICATE, title="Billing copies", search_text="other")
    # Shorter label, and a near miss of the word in its text: it ranks first only if the kind's
    # words do not count as the other's document.
    by_typo = make_finding(account=account, kind=Finding.Kind.WEAK, title="Billing", search_text="duplicatx report")

    assert [hit.pk for hit in _hits(viewer, "duplicate")] == [by_kind.pk, by_typo.pk]


def _hits(viewer: User, query: str) -> list[search.Hit]:
    return [hit for group in search.search(viewer, query).groups if group.kind == "findings" for hit in group.hits]


def test_the_demos_search_document_carries_the_kind_words() -> None:
    row = {"title": "Same credential copied", "kind": Finding.Kind.DUPLICATE, "search_text": "stripe key"}

    assert search.fallback_document("findings", row) == "same credential copied duplicate duplicate secret stripe key"
    assert search.fallback_word_matches("duplicate", search.fallback_document("findings", row)) == 1.0


def test_every_kind_has_its_kind_and_label_among_its_words() -> None:
    for kind in Finding.Kind:
        assert KIND_SEARCH_WORDS[kind].startswith(str(kind)), kind
    assert "rotate rotation overdue" in KIND_SEARCH_WORDS[Finding.Kind.OVERDUE_ROTATION]
    assert "reused shared secret" in KIND_SEARCH_WORDS[Finding.Kind.REUSED_SECRET]


def test_a_kind_word_is_folded_as_the_database_folds_the_document(account) -> None:
    over = make_finding(account=account, kind=Finding.Kind.OVER_PERMISSIONED, title="Contractor can manage Finance",
                        search_text="contractor finance")  # fmt: skip
    # Python's case mapping turns "ß" into "ss" ("access", "permissioned"); PostgreSQL's
    # lower(upper()) keeps it, so no kind's words contain it and nothing is found.
    assert _titles(filtered_findings(q="ß")) == set()
    assert _titles(filtered_findings(q="ACCESS")) == {over.title}
    # PostgreSQL folds the dotless i (U+0131) to i (upper I, lower i): found, as the stored words once were.
    assert _titles(filtered_findings(q="perm\u0131ssioned")) == {over.title}
