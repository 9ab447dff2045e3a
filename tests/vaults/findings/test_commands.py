from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.vaults.factories import grant, make_item, make_op_user


def test_compute_findings_prints_a_summary_per_kind(account, prod_vault) -> None:
    make_item(vault=prod_vault, title="Password")
    out = StringIO()

    call_command("compute_findings", "--account", "acme", stdout=out)

    assert "acme: health" in out.getvalue()
    assert "unclear_name" in out.getvalue()


def test_compute_findings_refuses_an_unknown_account(db) -> None:
    with pytest.raises(CommandError, match="No account named 'nope'"):
        call_command("compute_findings", "--account", "nope")


def test_findings_json_lists_open_findings_with_item_and_user(account, prod_vault) -> None:
    item = make_item(vault=prod_vault, title="Password")
    grant(vault=prod_vault, user=make_op_user(account=account, email="gone@example.com", state="SUSPENDED"))
    call_command("compute_findings", stdout=StringIO())
    out = StringIO()

    call_command("findings", "--account", "acme", "--format", "json", stdout=out)

    rows = json.loads(out.getvalue())
    unclear = next(r for r in rows if r["kind"] == "unclear_name")
    assert unclear["item_id"] == item.op_id and unclear["item_title"] == "Password"
    assert unclear["vault"] == "Payments Production" and unclear["severity"] == "low"
    assert unclear["explanation"]
    person = next(r for r in rows if r["kind"] == "over_permissioned")
    assert person["user"] == "gone@example.com"


def test_findings_json_filters_by_kind(account, prod_vault) -> None:
    make_item(vault=prod_vault, title="Password", tags=[])
    call_command("compute_findings", stdout=StringIO())
    out = StringIO()

    call_command("findings", "--kind", "missing_metadata", "--format", "json", stdout=out)

    assert {r["kind"] for r in json.loads(out.getvalue())} == {"missing_metadata"}
