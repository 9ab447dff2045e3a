"""Reports read well for an auditor: control ids that a search finds, words that do not break,
permissions and people in words, real plurals, an exact period end, a sign-off block, and a
workbook that names its sheets, describes itself and prints on landscape pages."""

from __future__ import annotations

import datetime
import re
import subprocess

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from compliance.reports import generate
from compliance.reports.builders import build_report
from compliance.reports.document import Column, ReportDocument, Section, table
from compliance.reports.pdf import render_pdf
from compliance.reports.xlsx import render_xlsx
from compliance.reviews.periods import parse_period
from openclaw_web.roles import Role
from tests.compliance.reports.helpers import tiny_document
from tests.compliance.reviews.signed_off_review import pdf_reading_text

pytestmark = pytest.mark.django_db

SOC2_IDS = ("CC6.1", "CC6.2", "CC6.3", "CC6.6", "CC6.7", "CC7.2")
ISO_IDS = ("A.5.11", "A.5.15", "A.5.16", "A.5.17", "A.5.18", "A.8.2", "A.8.5")
RAW_PERMISSIONS = ("view_and_copy_passwords", "read_audit_trail_beta", "manage_vault", "edit_items", "view_items")


def _layout_text(body: bytes) -> str:
    """pdftotext -layout: a cell's lines stay in place, so an id broken over two lines is not found."""
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=body, capture_output=True, check=True).stdout.decode()


def _cover_text(body: bytes) -> str:
    out = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-", "-"], input=body, capture_output=True, check=True)
    return " ".join(out.stdout.decode().split())


@pytest.fixture
def reports(signed_off, org, tmp_path):
    """SOC 2 and ISO 27001 of the signed-off review's period: (document, pdf bytes, workbook path) each."""
    now = timezone.now()
    built = {}
    for kind in ("soc2", "iso27001"):
        document = build_report(kind=kind, period=org.period, generator="Dana Ruiz (Compliance officer)", now=now)
        render_xlsx(document, tmp_path / f"{kind}.xlsx")
        built[kind] = (document, render_pdf(document), tmp_path / f"{kind}.xlsx")
    return built


def _cells(path) -> list[str]:
    return [str(c.value) for ws in load_workbook(path).worksheets for row in ws.iter_rows() for c in row
            if c.value is not None]


# --- PDF ----------------------------------------------------------------------------------------


def test_every_control_id_is_found_unbroken_in_the_soc2_and_iso_pdfs(reports):
    soc2 = _layout_text(reports["soc2"][1])
    iso = _layout_text(reports["iso27001"][1])

    for ref in SOC2_IDS:
        assert re.search(rf"(?<![\w.]){re.escape(ref)}(?![\w])", soc2), ref
    found_iso = set(re.findall(r"(?<![\w.])A\.\d{1,2}\.\d{1,2}(?![\w.])", iso))
    assert set(ISO_IDS) <= found_iso, sorted(found_iso)
    # the id cell itself: no line of the control table ends in a cut id such as "CC6." or "A.5."
    assert not re.search(r"(?m)^\s*(CC\d\.|A\.\d+\.)\s*$", soc2 + iso)


def test_no_text_of_either_report_says_s_in_parentheses(reports):
    for kind, (_, pdf, workbook) in reports.items():
        assert "(s)" not in pdf_reading_text(pdf), kind
        assert not [c for c in _cells(workbook) if "(s)" in c], kind


def test_permissions_read_as_words_also_a_permission_unknown_to_openclaw(reports):
    text = pdf_reading_text(reports["soc2"][1])

    # Dora's revoked rights in "Changes decided": a known and an unknown permission, both in words
    assert "View and copy passwords" in text and "Read audit trail beta" in text and "Manage vault" in text
    for raw in RAW_PERMISSIONS:
        assert raw not in text, raw


def test_the_review_page_shows_permissions_in_words(signed_off, auditor, client_for):
    page = client_for(auditor).get(reverse("reviews:detail", args=[signed_off.pk])).content.decode()

    assert "View and copy passwords" in page and "Read audit trail beta" in page
    assert "view_and_copy_passwords" not in page and "read_audit_trail_beta" not in page


def test_the_cover_lists_each_access_review_with_reviewers_sign_off_and_second_approval(reports, signed_off):
    cover = _cover_text(reports["soc2"][1])

    assert "Access review sign-off" in cover and signed_off.title in cover
    assert "Tomas Lindqvist (Team lead)" in cover and "Carol Compton (Compliance officer)" in cover
    assert "Bea Brandt (Approver)" in cover
    assert f"{signed_off.second_approved_at:%-d %b %Y}" in cover


def test_a_report_without_access_reviews_says_so_and_the_hygiene_report_has_no_sign_off_block(db):
    now = timezone.now()
    period = parse_period("2026Q1")
    soc2 = _cover_text(render_pdf(build_report(kind="soc2", period=period, generator="t", now=now)))
    hygiene = _cover_text(render_pdf(build_report(kind="hygiene", period=period, generator="t", now=now)))

    assert "No access review covers this period." in soc2
    assert "Access review sign-off" not in hygiene


def test_the_period_end_is_an_exact_time_on_the_pdf_and_workbook_covers(tmp_path):
    document = tiny_document([("x", None)])  # 2026Q1
    cover = _cover_text(render_pdf(document))
    render_xlsx(document, tmp_path / "t.xlsx")
    facts = {row[0].value: row[1].value for row in load_workbook(tmp_path / "t.xlsx")["Cover"].iter_rows(min_row=2)}

    exact = "1 Jan 2026 00:00 UTC up to 1 Apr 2026 00:00 UTC, end excluded (last day 31 Mar 2026)"
    assert exact in cover and facts["Period (UTC)"] == exact
    assert "24:00" not in cover  # the old "2026-03-31 24:00" is no time of day
    assert facts["Period end (UTC, exclusive)"] == datetime.datetime(2026, 4, 1)


def test_generated_by_shows_the_persons_name_and_role(make_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    dana = make_user("dana_r", Role.COMPLIANCE_OFFICER)
    dana.first_name, dana.last_name = "Dana", "Ruiz"
    dana.save()
    nameless = make_user("aud_42", Role.AUDITOR)  # decoy: no name set, the login name stands in

    artifact = generate.create_artifact(kind="hygiene", period=parse_period("2026Q1"), fmt="pdf", generator=dana)
    artifact = generate.render_artifact(artifact_id=artifact.pk)
    other = generate.create_artifact(kind="hygiene", period=parse_period("2026Q1"), fmt="xlsx",
                                     generator=User.objects.get(pk=nameless.pk))

    cover = _cover_text(generate.artifact_path(artifact).read_bytes())
    assert "Generated by Dana Ruiz (Compliance officer)" in cover and "dana_r" not in cover
    assert other.generator_label == "aud_42 (Auditor)"


# --- workbook -----------------------------------------------------------------------------------


def test_the_workbooks_describe_themselves_and_print_landscape_fitted_to_width_with_headers(reports):
    for kind, framework_sheet, keyword in (("soc2", "SOC 2 criteria", "SOC 2"),
                                           ("iso27001", "ISO 27001 Annex A", "ISO/IEC 27001")):
        document, _, path = reports[kind]
        wb = load_workbook(path)

        assert wb.properties.title == document.title and wb.properties.creator == "OpenClaw"
        assert document.period.title in wb.properties.subject and keyword in wb.properties.keywords
        names = wb.sheetnames
        assert all(len(n) <= 31 for n in names) and len({n.lower() for n in names}) == len(names), names
        assert names[:3] == ["Cover", "Sign-offs", "Summary"] and framework_sheet in names
        assert {"Production access", "Access review changes", "Violations"} <= set(names)
        for ws in wb.worksheets:
            assert ws.page_setup.orientation == "landscape", ws.title
            assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0), ws.title
            assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
            assert ws.print_title_rows == "$1:$1" and ws.freeze_panes == "A2", ws.title


def test_the_sign_off_sheet_names_the_people(reports, signed_off):
    rows = list(load_workbook(reports["soc2"][2])["Sign-offs"].iter_rows(min_row=2, values_only=True))

    assert len(rows) == 1
    review, status, reviewers, signed_by, signed_at, second, second_at = rows[0]
    assert review == signed_off.title and status == "Signed off"
    assert reviewers == "Carol Compton (Compliance officer), Tomas Lindqvist (Team lead)"
    assert signed_by == "Carol Compton (Compliance officer)" and second == "Bea Brandt (Approver)"
    assert isinstance(signed_at, datetime.datetime) and isinstance(second_at, datetime.datetime)


def test_an_unknown_long_table_title_becomes_a_sheet_name_cut_between_words_and_kept_unique(tmp_path):
    columns = [Column("Text", width=20)]
    long_title = "Accesses per user and item in production vaults"
    document = ReportDocument(
        kind="soc2", title="Test", period=parse_period("2026Q1"), generated_at=datetime.datetime(2026, 4, 1, tzinfo=datetime.UTC),
        generator="t", chain_head="0" * 64, accounts=[],
        sections=[Section(key="s", title="S", tables=[table("unknown_a", long_title, columns, [("a",)]),
                                                       table("unknown_b", long_title, columns, [("b",)]),
                                                       table("key_figures", "Key figures", columns, [("c",)])])])
    render_xlsx(document, tmp_path / "t.xlsx")

    assert load_workbook(tmp_path / "t.xlsx").sheetnames == [
        "Cover", "Accesses per user and item in", "Accesses per user and item in 2", "Summary"]
