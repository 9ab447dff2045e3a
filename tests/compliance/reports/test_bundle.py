"""The evidence bundle (`--format zip`): one data build, every file, one manifest of SHA-256 sums."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import tomllib
import zipfile
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from compliance import audit
from compliance.models import AuditLogEntry
from compliance.reports import generate, schedules
from compliance.reports.builders import build_report
from compliance.reports.bundle import write_bundle
from compliance.reports.document import TOP_ROWS, Column, Table
from compliance.reports.models import ReportArtifact, ReportSchedule
from compliance.reports.tasks import render_pdf_task
from compliance.reviews.periods import period_containing
from openclaw_web.celery import app
from tests.compliance.reports.helpers import tiny_document
from tests.vaults import factories as f
from vaults.models import Item

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[3]
HYPERLINK = '=HYPERLINK("http://x","y") Production Key'
SCRIPT = "<script>alert(1)</script> Production Login"


@pytest.fixture
def org_sizes():
    # Big enough that some table has more rows than the PDF shows; hostile titles planted.
    return {"vaults": 8, "items": 60, "users": 12, "groups": 5, "hostile": True}


def unpack(blob: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def mismatches(members: dict[str, bytes]) -> list[str]:
    """An auditor's check of a bundle: every file the manifest names has its size and SHA-256."""
    manifest = json.loads(members["manifest.json"])
    wrong = []
    for entry in manifest["files"]:
        blob = members.get(entry["name"])
        if blob is None or len(blob) != entry["size"] or hashlib.sha256(blob).hexdigest() != entry["sha256"]:
            wrong.append(entry["name"])
    return wrong


def csv_rows(blob: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(blob.decode("utf-8-sig"), newline="")))


@pytest.fixture
def soc2_bundle(synced_org, tmp_path) -> tuple[ReportArtifact, dict[str, bytes], str]:
    audit.record("test.marker", actor_label="tester")  # a real chain head, not the genesis hash
    out = tmp_path / "out" / "soc2.zip"
    call_command("generate_report", "soc2", "--period", period_containing(timezone.now()).label, "--format", "zip",
                 "--out", str(out))
    artifact = ReportArtifact.objects.get()
    # The newest entry while the report was built: the request's own (the "generated" one comes after).
    head = AuditLogEntry.objects.get(action="report.requested", target_id=str(artifact.pk)).entry_hash
    return artifact, unpack(out.read_bytes()), head


def test_the_command_writes_a_zip_of_exactly_the_pdf_the_workbook_one_csv_per_table_and_the_manifest(soc2_bundle, tmp_path):
    artifact, members, _ = soc2_bundle
    out = tmp_path / "out" / "soc2.zip"
    stem = Path(artifact.filename).stem
    manifest = json.loads(members["manifest.json"])
    tables = sum(len(s.tables) for s in build_report(kind="soc2", period=period_containing(timezone.now()),
                                                          generator="t", now=timezone.now()).sections)
    csvs = sorted(n for n in members if n.endswith(".csv"))

    assert artifact.status == "done" and artifact.format == "zip" and artifact.filename.endswith(".zip")
    assert artifact.sha256 == hashlib.sha256(out.read_bytes()).hexdigest() == \
        hashlib.sha256(generate.artifact_path(artifact).read_bytes()).hexdigest()
    assert set(members) == {f"{stem}.pdf", f"{stem}.xlsx", "manifest.json", *csvs}
    assert len(csvs) == tables > 5 and all(n.startswith("tables/") for n in csvs)
    assert [e["name"] for e in manifest["files"]] == [f"{stem}.pdf", f"{stem}.xlsx", *csvs]
    assert members[f"{stem}.pdf"].startswith(b"%PDF") and members[f"{stem}.xlsx"].startswith(b"PK")


def test_the_manifest_describes_the_report_and_the_product(soc2_bundle):
    artifact, members, head = soc2_bundle
    manifest = json.loads(members["manifest.json"])
    period = period_containing(timezone.now())
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]

    assert (manifest["kind"], manifest["title"]) == ("soc2", "SOC 2 access review")
    assert manifest["period"] == {"label": period.label, "start": period.start.isoformat(), "end": period.end.isoformat(),
                                  "end_is_exclusive": True}
    assert manifest["parameters"]["period_start"] == period.start.isoformat()
    assert manifest["generator"] == "manage.py"
    assert manifest["product"] == {"name": "OpenClaw Vault Hygiene & Compliance", "version": version}
    generated = datetime.datetime.fromisoformat(manifest["generated_at"])
    assert artifact.started_at <= generated <= artifact.finished_at
    assert manifest["chain_head"] == head == artifact.chain_head
    assert manifest["chain_seq"] == artifact.chain_seq == AuditLogEntry.objects.get(entry_hash=head).seq > 1


def test_every_sha256_in_the_manifest_matches_its_file_and_a_tampered_file_is_caught(soc2_bundle):
    _, members, _ = soc2_bundle
    assert mismatches(members) == []

    victim = sorted(n for n in members if n.endswith(".csv"))[-1]
    forged = {**members, victim: members[victim].replace(b"\r\n", b"\r\nforged,row\r\n", 1)}
    same_size = {**members, victim: members[victim][:-3] + b"X\r\n"}
    missing = {n: b for n, b in members.items() if n != victim}
    assert mismatches(forged) == mismatches(same_size) == mismatches(missing) == [victim]


def test_one_chain_head_is_in_the_pdf_the_workbook_cover_and_the_manifest(soc2_bundle, tmp_path):
    artifact, members, head = soc2_bundle
    stem = Path(artifact.filename).stem
    pdf = tmp_path / "bundle.pdf"
    pdf.write_bytes(members[f"{stem}.pdf"])
    from tests.compliance.reports.helpers import pdf_text

    text = pdf_text(pdf).replace(" ", "").replace("\n", "")
    cover = {row[0].value: row[1].value for row in load_workbook(io.BytesIO(members[f"{stem}.xlsx"]))["Cover"].iter_rows(min_row=2)}
    audit.record("test.after", actor_label="tester")  # the log moves on; the bundle keeps its moment

    assert head in text
    assert cover["Audit log chain head"] == head
    assert json.loads(members["manifest.json"])["chain_head"] == head
    assert audit.chain_head() != head and audit.chain_head() not in text


def test_each_csv_has_every_row_of_its_table_as_the_workbook_sheet_does(soc2_bundle):
    artifact, members, _ = soc2_bundle
    wb = load_workbook(io.BytesIO(members[f"{Path(artifact.filename).stem}.xlsx"]), read_only=True)
    entries = [e for e in json.loads(members["manifest.json"])["files"] if e["name"].endswith(".csv")]
    # The table sheets follow the cover (and sign-offs) in the order of the report's tables.
    sheets = wb.worksheets[-len(entries):]

    longest = 0
    for entry, sheet in zip(entries, sheets, strict=True):
        rows = csv_rows(members[entry["name"]])
        sheet_rows = list(sheet.iter_rows(values_only=True))
        assert len(rows) - 1 == entry["rows"] == len(sheet_rows) - 1, (entry["name"], sheet.title)
        assert rows[0] == [str(v) for v in sheet_rows[0]], entry["name"]  # the same header
        longest = max(longest, entry["rows"])
    assert longest > TOP_ROWS  # a table the PDF cuts short is whole in both


def test_hostile_titles_are_escaped_in_the_csvs(synced_org, tmp_path):
    item = Item.objects.filter(vault__account=synced_org).first()
    for title in (HYPERLINK, SCRIPT):
        f.make_finding(account=synced_org, title=title, item=item, vault=item.vault)
    artifact = generate.generate_now(kind="hygiene", period=period_containing(timezone.now()), fmt="zip")
    members = unpack(generate.artifact_path(artifact).read_bytes())
    cells = [c for name, blob in members.items() if name.endswith(".csv") for row in csv_rows(blob) for c in row]

    assert "'" + HYPERLINK in cells and HYPERLINK not in cells
    assert SCRIPT in cells  # text, kept as it is: a CSV is not HTML, and "<" starts no formula
    assert [cell for cell in cells if could_be_formula(cell)] == []


def could_be_formula(cell: str) -> bool:
    """What a spreadsheet would run; a negative number ("-5") is a number, not a formula."""
    stripped = cell.lstrip(" \t\r\n\x00")
    if stripped.startswith("-"):
        return not stripped[1:].replace(".", "", 1).isdigit()
    return stripped.startswith(("=", "+", "@"))


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x","y")', "+1", "@SUM(A1)", "-2+3", "\t=1", "\r=1", " =1"])
def test_csv_text_that_could_be_a_formula_is_escaped(text, tmp_path):
    out = io.BytesIO()
    write_bundle(tiny_document([(text, None)]), out, parameters={}, basename="b")
    rows = csv_rows(unpack(out.getvalue())["tables/01-s-t.csv"])
    assert rows[1][0].startswith("'") and rows[1][0].lstrip("'").strip() == text.strip()


@pytest.mark.parametrize("value", ["a=b", "Production Key", "2026-01-02", -5, 3.5])
def test_csv_text_that_cannot_be_a_formula_and_numbers_are_left_alone(value, tmp_path):
    out = io.BytesIO()
    write_bundle(tiny_document([(value, datetime.datetime(2026, 1, 2, 3, 4, 5, 600, tzinfo=datetime.UTC))]), out,
                 parameters={}, basename="b")
    rows = csv_rows(unpack(out.getvalue())["tables/01-s-t.csv"])
    assert rows[1] == [str(value), "2026-01-02T03:04:05Z"]


def test_a_lazy_table_is_read_once_and_the_csv_and_the_workbook_hold_the_same_rows(tmp_path):
    calls = []

    def rows():  # each read returns other rows, as a query run twice could
        calls.append(1)
        return ((f"row {len(calls)}-{n}", n) for n in range(40 + len(calls)))

    document = tiny_document([])
    document.sections[0].tables = [Table(key="t", title="Lazy", columns=[Column("Text"), Column("N", "int")],
                                         top=[], total=41, all_rows=rows)]
    out = io.BytesIO()
    write_bundle(document, out, parameters={}, basename="b")
    members = unpack(out.getvalue())
    from_csv = csv_rows(members["tables/01-s-t.csv"])[1:]
    from_sheet = list(load_workbook(io.BytesIO(members["b.xlsx"])).worksheets[-1].iter_rows(min_row=2, values_only=True))

    assert len(calls) == 1
    assert len(from_csv) == len(from_sheet) == 41
    assert [r[0] for r in from_csv] == [r[0] for r in from_sheet]


def test_an_auditor_downloads_a_bundle_generated_from_the_page(synced_org, compliance_officer, auditor, client_for,
                                                              django_capture_on_commit_callbacks):
    officer = client_for(compliance_officer)
    assert 'value="zip"' in officer.get(reverse("reports:list")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = officer.post(reverse("reports:generate"), {"kind": "iso27001", "period": "2026Q1", "format": "zip"})
    assert response.status_code == 302
    artifact = ReportArtifact.objects.get()
    client = client_for(auditor)

    listing = client.get(reverse("reports:list")).content.decode()
    download = client.get(reverse("reports:download", args=[artifact.pk]))
    body = b"".join(download.streaming_content)

    assert artifact.status == "done" and "Evidence bundle (.zip)" in listing and artifact.sha256 in listing
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    assert f'filename="{artifact.filename}"' in download["Content-Disposition"]
    assert hashlib.sha256(body).hexdigest() == artifact.sha256 and mismatches(unpack(body)) == []
    assert AuditLogEntry.objects.filter(action="report.downloaded", target_id=str(artifact.pk)).count() == 1
    assert client.post(reverse("reports:generate"), {"kind": "soc2", "period": "2026Q1", "format": "zip"}).status_code == 403


def test_a_bundle_renders_on_the_pdf_queue():
    # It holds a PDF, so it needs the pdf worker's memory recycling and time limits.
    assert app.amqp.router.route({}, generate.TASK_FOR_FORMAT["zip"])  # type: ignore[attr-defined]  # celery-types lacks AMQP.router["queue"].name == "pdf"
    assert app.amqp.router.route({}, generate.TASK_FOR_FORMAT["xlsx"])  # type: ignore[attr-defined]  # celery-types lacks AMQP.router["queue"].name == "default"  # decoy


def test_a_scheduled_bundle_is_mailed_once_even_when_its_task_is_delivered_again(synced_org, settings,
                                                                                  django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    ReportSchedule.objects.create(kind="soc2", format="zip", cadence="quarterly", recipients=["auditor@example.com"])
    with django_capture_on_commit_callbacks(execute=True):
        schedules.run_due_schedules()
    artifact = ReportArtifact.objects.get()

    render_pdf_task(artifact.pk)  # acks_late redelivery of the same task

    assert len(mail.outbox) == 1
    (name, blob, content_type), = mail.outbox[0].attachments
    assert (name, content_type) == (artifact.filename, "application/zip")
    assert hashlib.sha256(blob).hexdigest() == artifact.sha256
    artifact.refresh_from_db()
    assert artifact.delivered_at is not None
