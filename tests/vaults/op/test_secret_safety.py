"""No secret value survives parsing: not in a record, not in an error message."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.vaults.op.conftest import FINGERPRINT_KEY, OP_SAMPLES
from tests.vaults.op.record_strings import assert_absent, texts_in
from vaults.fake_op import render
from vaults.fake_op.demo import generate_organisation
from vaults.fake_op.render import dumps
from vaults.op import OpMalformedOutput, parse

# Values shorter than this are too short to check as substrings ("admin" is in "admin console").
MIN_CHECKED_LENGTH = 6


def item_get_samples() -> list[Any]:
    files = sorted(OP_SAMPLES.glob("item-get_*.json")) if OP_SAMPLES.is_dir() else []
    if not files:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{OP_SAMPLES} is absent in this checkout"))]
    return [pytest.param(path.read_bytes(), id=path.name) for path in files]


def own_item_outputs() -> list[Any]:
    """One `op item get --reveal` output per category and shape, rendered by the fake `op` from the
    demo organisation (values, notes, password history, OTP seeds, SSH keys): the suite's own
    samples, so these checks never depend on `../shared` being beside the checkout."""
    organisation = generate_organisation(now=datetime(2026, 3, 31, tzinfo=UTC), items=120, hostile=True)
    vaults = {vault["id"]: vault for vault in organisation["vaults"]}
    chosen: dict[tuple[str, ...], dict[str, Any]] = {}
    for item in organisation["items"]:
        shape = (item["category"], *sorted(str(f.get("type")) for f in item.get("fields", [])))
        chosen.setdefault(shape, item)
    return [
        pytest.param(dumps(render.item_detail(item, vaults[item["vault_id"]], reveal=True)).encode(),
                     id=f"fake-op-{item['category']}-{n}")
        for n, item in enumerate(chosen.values())
    ]


ITEM_OUTPUTS = item_get_samples() + own_item_outputs()


def secrets_of(data: dict[str, Any]) -> set[str]:
    """Everything in an `op item get` object a record must never hold: every field value (secret
    or not: records keep no values), notes text, password history, ssh_formats values, and
    `additional_information`."""
    found: set[str] = set()
    if isinstance(data.get("additional_information"), str):
        found.add(data["additional_information"])
    for field in data.get("fields", []):
        if isinstance(field.get("value"), str):
            found.add(field["value"])
        for old in (field.get("password_details") or {}).get("history", []):
            found.add(old if isinstance(old, str) else json.dumps(old))
        for fmt in (field.get("ssh_formats") or {}).values():
            if isinstance(fmt.get("value"), str):
                found.add(fmt["value"])
    return {s for s in found if len(s.strip()) >= MIN_CHECKED_LENGTH}


def kept_metadata(data: dict[str, Any]) -> set[str]:
    """Strings records legitimately keep; a field value equal to one of them (the LabelCasing
    sample has values equal to field ids) cannot be told apart and is not checked."""
    kept = {data.get("id", ""), data.get("title", ""), *(u.get("href", "") for u in data.get("urls", []))}
    kept |= set(data.get("tags", []))  # a database named "salesforce" beside the tag "salesforce"
    for field in data.get("fields", []):
        kept |= {field.get("id", ""), field.get("label", ""), (field.get("section") or {}).get("label", "")}
    return {k for k in kept if k}


@pytest.mark.parametrize("raw", ITEM_OUTPUTS)
def test_it_keeps_no_value_of_any_item_output_in_the_parsed_record(raw: bytes) -> None:
    data = json.loads(raw)
    detail = parse.parse_item_get(raw, fingerprint_key=FINGERPRINT_KEY)
    kept = kept_metadata(data)
    checked = {s for s in secrets_of(data) if not any(s in k for k in kept)}
    concealed = [f["value"] for f in data["fields"] if f.get("type") in ("CONCEALED", "SSHKEY") and f.get("value")]
    assert set(concealed) <= checked | {c for c in concealed if len(c) < MIN_CHECKED_LENGTH}
    for secret in checked:
        assert_absent(secret, detail)


def corruptions(raw: bytes) -> dict[str, bytes]:
    data = json.loads(raw)
    no_id = dict(data)
    no_id.pop("id", None)
    vault_as_list = dict(data, vault=["not", "an", "object"])
    bad_value = dict(data, fields=[*data.get("fields", []), {"id": "x", "type": "CONCEALED", "value": [1]}])
    return {
        "truncated": raw[: len(raw) * 2 // 3],
        "not utf-8": raw + b"\xff",
        "no id": json.dumps(no_id).encode(),
        "vault is a list": json.dumps(vault_as_list).encode(),
        "concealed value is a list": json.dumps(bad_value).encode(),
        "wrapped in a list": b"[" + raw + b"]",
    }


@pytest.mark.parametrize("raw", ITEM_OUTPUTS)
def test_it_never_quotes_a_value_in_errors_about_malformed_item_output(raw: bytes) -> None:
    secrets = secrets_of(json.loads(raw))
    for name, broken in corruptions(raw).items():
        with pytest.raises(OpMalformedOutput) as caught:
            parse.parse_item_get(broken, fingerprint_key=FINGERPRINT_KEY)
        error = caught.value
        shown = f"{error} {error!r} {error.hint} {error.stderr_excerpt} {error.args}"
        for secret in secrets:
            assert secret not in shown, f"{name}: the error quotes a value"
        assert error.__context__ is None, f"{name}: a decoder error holding the input is chained"


def test_it_rejects_a_lone_otp_field_without_echoing_its_seed(sample: Any) -> None:
    raw = sample("item-get-fields-type-otp_pyop_totp-field.json")
    with pytest.raises(OpMalformedOutput) as caught:
        parse.parse_item_get(raw, fingerprint_key=FINGERPRINT_KEY)
    assert "AAAAY3DPEHPK3PXP" not in f"{caught.value!r} {caught.value}"
    assert "741354" not in str(caught.value)


def test_it_keeps_no_additional_information_from_item_list(sample: Any) -> None:
    raw = sample("item-list_pyop_vault-test-data.json")
    summaries = parse.parse_item_list(raw)
    note_text = "Note text here. **Mardown** supported."
    assert note_text in raw.decode()
    for text in texts_in(summaries):
        assert note_text not in text
