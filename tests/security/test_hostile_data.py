"""Hostile data in every API response and every export: item titles with script tags,
attribute break-outs, Excel formulas, right-to-left overrides and 10 kB of text.

API responses must be valid JSON that gives the text back exactly, with `<`, `>` and `&`
escaped; exports must hold no formula cell and every formula-looking text must start with `'`."""

from __future__ import annotations

import csv
import datetime
import io
import json

import openpyxl
import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from compliance import audit
from tests.security.planted import HOSTILE_TITLES, api_list_urls, bearer_for, plant

pytestmark = pytest.mark.django_db

# What Excel, LibreOffice and Sheets read as the start of a formula (or DDE call), written out
# here rather than imported so the test does not share a mistake with the code.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\x00")


@pytest.fixture
def planted(admin_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return plant(titles=HOSTILE_TITLES, opened_by=admin_user, vault_name='"><svg onload=alert(1)>')


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_every_api_response_is_escaped_json_that_gives_hostile_text_back_exactly(admin_user, planted):
    client = Client(headers=bearer_for(admin_user))
    seen: set[str] = set()
    for url in [*api_list_urls(planted), "/api/v1/items?limit=200", "/api/v1/findings?q=" + "%3Cscript%3E"]:
        response = client.get(url)
        assert response.status_code == 200, url
        raw = response.content.decode("ascii")  # json.dumps escapes every non-ASCII character
        assert "<" not in raw and ">" not in raw and "&" not in raw, url
        seen.update(_strings(json.loads(raw)))

    for title in HOSTILE_TITLES:
        assert title in seen, f"{title[:40]!r} did not come back intact"


def test_a_hostile_search_query_is_answered_not_crashed(admin_user, planted):
    client = Client(headers=bearer_for(admin_user))
    for q in ["<script>alert(1)</script>", "' OR 1=1 --", "%_%", "\u202e", "=HYPERLINK(\"x\")", "a" * 200]:
        response = client.get("/api/v1/findings", {"q": q})
        assert response.status_code == 200, q
    assert client.get("/api/v1/findings", {"q": "x\x00y"}).status_code == 422  # refused by the schema


def _xlsx_cells(body: bytes) -> list[openpyxl.cell.Cell]:
    workbook = openpyxl.load_workbook(io.BytesIO(body))
    return [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]


def _assert_no_formula(cells: list[openpyxl.cell.Cell], hostile: list[str]) -> None:
    texts = []
    for cell in cells:
        assert cell.data_type != "f", f"{cell.coordinate} is a formula: {cell.value!r}"
        if isinstance(cell.value, str):
            texts.append(cell.value)
            assert not cell.value.startswith(_FORMULA_TRIGGERS), f"{cell.coordinate} starts like a formula: {cell.value[:40]!r}"
    joined = "\n".join(texts)
    for title in hostile:
        if title.startswith(_FORMULA_TRIGGERS):
            assert "'" + title[:60] in joined or "'" + title.lstrip()[:60] in joined, f"{title[:40]!r} is missing or unescaped"


def _hostile_audit_entries(admin_user) -> None:
    for title in HOSTILE_TITLES:
        audit.record("test.hostile", actor=admin_user, target_label=title, details={"title": title})


def test_the_audit_log_xlsx_export_holds_no_formula(admin_user, client_for, planted):
    _hostile_audit_entries(admin_user)
    client = client_for(admin_user)

    response = client.get(reverse("audit:export", kwargs={"fmt": "xlsx"}))

    assert response.status_code == 200
    _assert_no_formula(_xlsx_cells(response.content), [t for t in HOSTILE_TITLES if len(t) < 1000])


def test_the_audit_log_csv_export_escapes_formula_text(admin_user, client_for, planted):
    _hostile_audit_entries(admin_user)

    response = client_for(admin_user).get(reverse("audit:export", kwargs={"fmt": "csv"}))

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    assert len(rows) > len(HOSTILE_TITLES)
    for row in rows:
        for value in row:
            assert not value.startswith(_FORMULA_TRIGGERS), value[:60]
    labels = {row[6] for row in rows[1:]}
    assert "'" + HOSTILE_TITLES[2] in labels  # =HYPERLINK(...)
    assert HOSTILE_TITLES[0] in labels  # plain text stays as it was


def test_the_findings_command_prints_valid_json_with_hostile_titles_intact(planted):
    out = io.StringIO()

    call_command("findings", "--format", "json", stdout=out)

    titles = {f["item_title"] for f in json.loads(out.getvalue())}
    assert set(HOSTILE_TITLES) <= titles


def test_the_findings_in_an_excel_report_hold_no_formula(planted, tmp_path):
    from django.utils import timezone

    from compliance.reports.generate import generate_now
    from compliance.reviews.periods import period_containing

    out = tmp_path / "hygiene.xlsx"
    period = period_containing(timezone.now() - datetime.timedelta(days=1))

    generate_now(kind="hygiene", period=period, fmt="xlsx", out=out, generator_label=HOSTILE_TITLES[2])

    cells = _xlsx_cells(out.read_bytes())
    _assert_no_formula(cells, [HOSTILE_TITLES[2]])
    assert any(isinstance(c.value, str) and "HYPERLINK" in c.value for c in cells)
