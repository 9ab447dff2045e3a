"""Planted findings and queries for the findings list search (vaults/findings/search.py, issue #17).

Shared by tests/vaults/findings/test_search.py (PostgreSQL, in the suite's database) and, run as
`python -m tests.vaults.findings.search_scenario`, by the same test on SQLite (the demo's
database) in a process of its own; there it prints one JSON line with the titles each query found.

EXPECTED is written by hand from the rule "every query word, or one of its synonyms, is a
case-insensitive substring of the finding's search text", never read from the code under test.
Each hit has decoys next to it: the word only in the title, the explanation or the details (not
in the search text), a near miss, LIKE wildcards taken literally, another status.
"""

from __future__ import annotations

import json
from typing import Any

# title -> (search text, status, where else the words appear: explanation, details)
PLANTED: dict[str, dict[str, Any]] = {
    "PostgreSQL Production": {"search_text": "weak secret postgresql production payments production database password username"},
    "Mongodb Production": {"search_text": "weak secret mongodb production login password"},
    "DB-Prod replica": {"search_text": "unclear name db-prod replica password"},
    "Mailchimp Staging": {"search_text": "weak secret mailchimp staging login password"},  # decoy for prod
    "Product catalogue": {"search_text": "unclear name product catalogue api_key"},  # "prod" is a substring of "product"
    "Stripe PRODUCTION Key": {"search_text": "Overdue rotation Stripe PRODUCTION Key Payments API_CREDENTIAL"},  # not lower-cased
    "QA Access": {"search_text": "Over-permissioned user QA Tester qa@acme.test"},
    "Apixkey thing": {"search_text": "missing metadata apixkey thing"},  # "_" in "api_key" is no wildcard
    "Discount 100% off": {"search_text": "unclear name discount 100% off"},
    "Discount 1000 off": {"search_text": "unclear name discount 1000 off"},  # "%" is no wildcard either
    "Überweisung Production": {"search_text": "weak secret ÜBERWEISUNG production"},
    # Letters that upper() folds together and lower() keeps apart (as the engine stores them: lower-cased
    # in Python, so a Greek word ends in the final sigma): the old UPPER rule found each.
    "Greek access code": {"search_text": "weak secret κωδικος προσβασης"},
    "Turkish report": {"search_text": "weak secret kas\u0131m raporu"},  # the dotless i, U+0131
    "Sensor timeout": {"search_text": "weak secret sensor 5 \u00b5s timeout"},  # micro sign
    "Greek decoy": {"search_text": "weak secret κωδικας"},
    # The word only outside the search text: in the title (search text present), the explanation, the details.
    "Kubernetes token": {"search_text": "orphaned item nothing else", "explanation": "A kubernetes cluster token, hunter2."},
    "Orphaned thing": {"search_text": "orphaned thing", "details": {"value_hint": "kubernetes hunter2"}},
    # No search text at all: the old rule never found it, whatever its title.
    "Zebra kubernetes key": {"search_text": ""},
    # Closed findings: found only with status=all (no trigram index there: open findings only).
    "Resolved Postgres Production": {"search_text": "weak secret postgres production password", "status": "resolved"},
    "Accepted Redis Staging": {"search_text": "weak secret redis staging password", "status": "accepted"},
}

EXPECTED: dict[str, set[str]] = {
    "db password prod": {"PostgreSQL Production", "Mongodb Production", "DB-Prod replica"},
    "DB PASSWORD PROD": {"PostgreSQL Production", "Mongodb Production", "DB-Prod replica"},
    "prod": {"PostgreSQL Production", "Mongodb Production", "DB-Prod replica", "Product catalogue",
             "Stripe PRODUCTION Key", "Überweisung Production"},
    "production": {"PostgreSQL Production", "Mongodb Production", "Stripe PRODUCTION Key", "Überweisung Production"},
    "db": {"PostgreSQL Production", "Mongodb Production", "DB-Prod replica"},
    "odb": {"Mongodb Production"},  # mid-word, three letters: the trigram index
    "qa": {"QA Access"},
    "stripe key": {"Stripe PRODUCTION Key"},
    "key": {"Stripe PRODUCTION Key", "Product catalogue", "Apixkey thing"},
    "apikey": {"Product catalogue"},  # via the synonym "api_key", literally
    "100%": {"Discount 100% off"},
    "kubernetes": set(),
    "hunter2": set(),
    "zebra": set(),
    "password nothing-like-this": set(),
    # One letter: every open finding with an "a" in its search text (all but the one without any).
    "a": set(PLANTED) - {"Zebra kubernetes key", "Resolved Postgres Production", "Accepted Redis Staging"},
}  # fmt: skip

# Case folding beyond ASCII: PostgreSQL's lower()/UPPER() fold "Ü", SQLite's LIKE does not (the
# demo's old and new rule alike), so this one is checked on PostgreSQL only.
EXPECTED_POSTGRESQL_ONLY: dict[str, set[str]] = {
    "überweisung": {"Überweisung Production"},
    "ΠΡΟΣ": {"Greek access code"},  # Python lower-cases the query to "προς" (final sigma)
    "ΚΩΔΙΚΟΣ": {"Greek access code"},
    "kasim": {"Turkish report"},
    "\u03bcs": {"Sensor timeout"},  # Greek mu typed, micro sign stored
}

# With status=all the closed findings join in (a path the partial trigram index does not cover).
EXPECTED_ALL_STATUSES: dict[str, set[str]] = {
    "db password prod": {"PostgreSQL Production", "Mongodb Production", "DB-Prod replica", "Resolved Postgres Production"},
    "redis": {"Accepted Redis Staging"},
}


def plant() -> None:
    from tests.vaults.factories import make_account, make_finding, make_vault

    account = make_account(name="search-scenario")
    vault = make_vault(account=account, name="Scenario Vault")
    for title, fields in PLANTED.items():
        make_finding(account=account, title=title, vault=vault, search_text=fields["search_text"],
                     status=fields.get("status", "open"), explanation=fields.get("explanation", "Because."),
                     details=fields.get("details", {}))  # fmt: skip


def found(queries: dict[str, set[str]], *, status: str = "") -> dict[str, list[str]]:
    from vaults.findings.search import filtered_findings

    return {q: sorted(filtered_findings(q=q, status=status).values_list("title", flat=True)) for q in queries}


def run() -> dict[str, Any]:
    from django.db import connection

    plant()
    report: dict[str, Any] = {"open": found(EXPECTED), "all": found(EXPECTED_ALL_STATUSES, status="all")}
    if connection.vendor == "postgresql":
        report["open"].update(found(EXPECTED_POSTGRESQL_ONLY))
    return report


def main() -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, skip_checks=True)
    print(json.dumps({"vendor": connection.vendor, **run()}))


if __name__ == "__main__":
    main()
