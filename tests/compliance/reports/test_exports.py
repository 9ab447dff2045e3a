"""The PDF and the workbook of a synced organisation, and the safety of both (invariant 7)."""

from __future__ import annotations

import datetime
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from compliance import audit
from compliance.reports.builders import build_report
from compliance.reports.fetcher import StaticOnlyFetcher, static_url
from compliance.reports.pdf import html_to_pdf, render_pdf
from compliance.reports.xlsx import render_xlsx
from compliance.reviews.periods import period_containing
from tests.compliance.reports.helpers import pdf_pages, pdf_text, recording_http_server, tiny_document
from tests.vaults import factories as f
from vaults.models import Vault

pytestmark = pytest.mark.django_db


@pytest.fixture
def org_sizes():
    return {"vaults": 8, "items": 60, "users": 12, "groups": 5, "hostile": True}


@pytest.fixture
def soc2(synced_org):
    audit.record("test.marker", actor_label="tester")  # a real chain head, not the genesis hash
    now = timezone.now()
    return build_report(kind="soc2", period=period_containing(now), generator="carol_compliance", now=now)


def test_the_soc2_pdf_opens_with_cover_contents_sections_key_figures_and_chain_head(soc2, tmp_path):
    path = tmp_path / "soc2.pdf"
    path.write_bytes(render_pdf(soc2))

    text = " ".join(pdf_text(path).split())
    assert pdf_pages(path) >= 8
    for title in ("Executive summary", "Production access audit", "Credential rotation compliance", "Policy violations",
                  "Emergency access", "Access review documentation", "Quarter-over-quarter metrics",
                  "Recommendations", "Control mapping", "Contents"):
        assert title in text, title
    assert audit.chain_head() in text.replace(" ", "") or audit.chain_head() in text
    assert f"{soc2.figures['compliance_pct']:.1f}%" in text
    assert f"{soc2.figures['rotation_pct']:.1f}%" in text
    assert f"{soc2.figures['health_score']}/100" in text
    assert "full detail is in the Excel workbook" in text
    assert soc2.period.label in text and "carol_compliance" in text
    assert "Page 3 of" in text


def test_the_workbook_reloads_with_one_sheet_per_section_frozen_headers_filters_and_real_dates(soc2, tmp_path):
    path = tmp_path / "soc2.xlsx"
    render_xlsx(soc2, path)

    wb = load_workbook(path)
    assert wb.sheetnames[0] == "Cover"
    for name in ("Summary", "Production access", "Production use per item", "Credential rotation",
                 "Violations by kind", "Violations", "Break-glass events", "Quarter over quarter", "Recommendations",
                 "SOC 2 criteria"):
        assert name in wb.sheetnames, (name, wb.sheetnames)
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), ws.title
        assert ws.column_dimensions["A"].width > 0
    cover = {row[0].value: row[1].value for row in wb["Cover"].iter_rows(min_row=2)}
    assert cover["Audit log chain head"] == audit.chain_head()
    assert isinstance(cover["Generated (UTC)"], datetime.datetime)
    summary = {row[0].value: row[1].value for row in wb["Summary"].iter_rows(min_row=2)}
    assert summary["Open findings (all kinds)"] == soc2.figures["open_findings"]
    violations = wb["Violations"]
    first_seen = [row[4] for row in violations.iter_rows(min_row=2)]
    assert first_seen and all(c.is_date for c in first_seen)
    rows = soc2.section("access").tables[1].total
    accesses = wb["Production use per item"]
    assert accesses.max_row == rows + 1


def test_no_cell_of_a_hostile_organisations_workbook_is_a_formula(soc2, tmp_path):
    path = tmp_path / "soc2.xlsx"
    render_xlsx(soc2, path)
    hygiene = build_report(kind="hygiene", period=soc2.period, generator="t", now=soc2.generated_at)
    render_xlsx(hygiene, tmp_path / "h.xlsx")

    for book in (path, tmp_path / "h.xlsx"):
        for ws in load_workbook(book).worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x","y")', "+1", "@SUM(A1)", "-2+3", "\t=1", "\r=1", "\n=1", "\x00=1"])
def test_excel_text_that_could_be_a_formula_is_escaped(text, db):
    out = io.BytesIO()
    render_xlsx(tiny_document([(text, datetime.datetime(2026, 1, 2, 3, 4, tzinfo=datetime.UTC))]), out)

    ws = load_workbook(io.BytesIO(out.getvalue()))["Hostile cells"]
    cell, when = ws["A2"], ws["B2"]
    assert cell.data_type != "f"
    assert isinstance(cell.value, str) and cell.value.startswith("'")
    assert when.is_date and when.value == datetime.datetime(2026, 1, 2, 3, 4)


# --- the PDF fetcher: only the app's own static files ------------------------------------------------


def test_the_fetcher_serves_the_apps_static_stylesheet():
    fetcher = StaticOnlyFetcher()
    response = fetcher.fetch(static_url("css/report.css"))
    assert b"@page" in response.read()
    assert fetcher.served == [static_url("css/report.css")]


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "http://169.254.169.254/latest/meta-data/", "https://169.254.169.254/",
    "https://openclaw.invalid/static/../../etc/passwd", "https://openclaw.invalid/static/%2e%2e/settings.py",
    "https://openclaw.invalid/etc/passwd", "https://openclaw.invalid:8443/static/css/report.css",
    "https://evil.example/static/css/report.css", "data:text/plain,hello", "ftp://example.com/x",
    "https://openclaw.invalid/static/css/report.css?x=1",
])
def test_the_fetcher_refuses_everything_else(url):
    fetcher = StaticOnlyFetcher()
    with pytest.raises(ValueError, match="refused"):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_raw_markup_pointing_outside_is_never_fetched_by_html_css_or_imports(tmp_path):
    with recording_http_server() as (base, requests):
        html = f"""<html><head>
          <link rel="stylesheet" href="{base}/link.css"><link rel="stylesheet" href="file:///etc/passwd">
          <style>@import url("{base}/import.css"); body {{ background: url("http://169.254.169.254/latest/meta-data/"); }}
                 h1 {{ background-image: url("{base}/bg.png"); }}</style></head>
          <body><h1>x</h1><img src="{base}/img.png"><img src="file:///etc/passwd"><object data="{base}/obj"></object>
          <embed src="{base}/embed"><iframe src="{base}/frame"></iframe><link rel="attachment" href="{base}/att">
          <img src="http://169.254.169.254/latest/meta-data/iam"></body></html>"""
        fetcher = StaticOnlyFetcher()
        pdf = html_to_pdf(html, fetcher=fetcher)

    assert pdf.startswith(b"%PDF")
    assert requests == []
    assert fetcher.served == [static_url("css/report.css")]
    assert {a for a in fetcher.attempts if a != static_url("css/report.css")} <= set(fetcher.refused)
    assert "file:///etc/passwd" in fetcher.refused
    assert any(a.startswith(base) for a in fetcher.refused)
    assert any("169.254.169.254" in a for a in fetcher.refused)


def test_item_urls_and_markup_in_report_data_are_never_fetched(synced_org, tmp_path):
    with recording_http_server() as (base, requests):
        vault = Vault.objects.filter(classification="production").first()
        assert vault is not None
        item = f.make_item(vault=vault, title=f'<img src="{base}/title.png"><link rel=stylesheet href="file:///etc/passwd">',
                           urls=[{"href": "file:///etc/passwd", "primary": True}, {"href": "http://169.254.169.254/"},
                                 {"href": f"{base}/item-url"}])
        user = synced_org.op_users.first()
        f.make_usage(account=synced_org, user=user, item=item, when=timezone.now().replace(hour=23))
        now = timezone.now()
        for kind in ("soc2", "iso27001", "hygiene"):
            fetcher = StaticOnlyFetcher()
            doc = build_report(kind=kind, period=period_containing(now), generator="t", now=now)
            path = tmp_path / f"{kind}.pdf"
            path.write_bytes(render_pdf(doc, fetcher=fetcher))
            assert fetcher.attempts == [static_url("css/report.css")], fetcher.attempts
        assert requests == []
    assert "<img src=" in pdf_text(tmp_path / "soc2.pdf").replace("\n", " ")  # shown as text, not markup


def test_a_10_kb_item_title_is_cut_in_the_pdf(soc2, tmp_path):
    path = tmp_path / "soc2.pdf"
    path.write_bytes(render_pdf(soc2))
    assert "lorem ipsum dolor " * 20 not in " ".join(pdf_text(path).split())
