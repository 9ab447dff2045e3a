"""Every PDF artifact is archival: PDF/A-3b, tagged, fonts embedded, described by its metadata,
with bookmarks, and carrying its workbook and a manifest of it as embedded files."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
from pathlib import Path

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from weasyprint import HTML

from compliance.models import AuditLogEntry
from compliance.reports import generate
from compliance.reviews.periods import period_containing
from tests.compliance.reports.helpers import pdf_text
from tests.vaults import factories as f

pytestmark = pytest.mark.django_db


def run(*command: str) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def info(path: Path) -> dict[str, str]:
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in run("pdfinfo", str(path)).splitlines())}


def is_archival(path: Path) -> bool:
    meta = run("pdfinfo", "-meta", str(path))
    return 'pdfaid:part="3"' in meta and 'pdfaid:conformance="B"' in meta and info(path)["Tagged"] == "yes"


@pytest.fixture
def pdf_artifact(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    account = f.make_account(name="Acme")
    vault = f.make_vault(account=account, name="Payments Production", classification="production")
    user = f.make_op_user(account=account, name="Alice Able")
    f.grant(vault=vault, user=user, permissions=["view_items", "edit_items"])
    f.make_usage(account=account, user=user, item=f.make_item(vault=vault))
    out = tmp_path / "soc2.pdf"
    artifact = generate.generate_now(kind="soc2", period=period_containing(timezone.now()), fmt="pdf", out=out,
                                     generator_label="carol_compliance")
    return artifact, out


def test_a_pdf_artifact_is_pdf_a_3b_and_tagged_and_a_plain_weasyprint_pdf_is_not(pdf_artifact, tmp_path):
    _, path = pdf_artifact
    plain = tmp_path / "plain.pdf"
    plain.write_bytes(HTML(string="<h1>Report</h1>").write_pdf())

    assert is_archival(path)
    assert not is_archival(plain)  # decoy: the check tells them apart


def test_the_structure_tree_has_headings_and_tables_and_every_font_is_embedded(pdf_artifact):
    _, path = pdf_artifact
    structure = run("pdfinfo", "-struct", str(path))
    fonts = run("pdffonts", str(path)).splitlines()[2:]

    assert re.search(r"^\s*H1\b", structure, re.M) and re.search(r"^\s*H2\b", structure, re.M)
    assert re.search(r"^\s*Table\b", structure, re.M) and re.search(r"^\s*TH\b", structure, re.M)
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts  # the "emb" column


def test_title_author_subject_and_keywords_say_what_the_report_is(pdf_artifact):
    artifact, path = pdf_artifact
    meta = info(path)

    assert meta["Title"] == f"SOC 2 access review — {artifact.period}"
    assert meta["Author"] == "carol_compliance"  # who asked; the Creator is OpenClaw
    assert "SOC 2 access review" in meta["Subject"] and artifact.chain_head in meta["Subject"]
    assert "SOC 2" in meta["Keywords"] and artifact.period in meta["Keywords"]
    assert meta["Creator"].startswith("OpenClaw ")


def test_sections_are_bookmarked(pdf_artifact):
    _, path = pdf_artifact
    outline = run("pdftohtml", "-xml", "-stdout", "-i", "-q", str(path)).split("<outline>", 1)[1]
    titles = [t.strip() for t in re.findall(r"<item page=\"\d+\">([^<]+)</item>", outline)]

    for expected in ("Contents", "Executive summary", "Production access audit", "Control mapping"):
        assert any(t.startswith(expected) for t in titles), (expected, titles)


def test_the_pdf_carries_its_workbook_and_a_manifest_with_the_same_chain_head(pdf_artifact, tmp_path):
    artifact, path = pdf_artifact
    listed = run("pdfdetach", "-list", str(path))
    folder = tmp_path / "detached"
    folder.mkdir()
    run("pdfdetach", "-saveall", "-o", str(folder), str(path))
    workbook = folder / f"{Path(artifact.filename).stem}.xlsx"
    manifest = json.loads((folder / "manifest.json").read_text())
    cover = {row[0].value: row[1].value for row in load_workbook(io.BytesIO(workbook.read_bytes()))["Cover"].iter_rows(min_row=2)}
    head = AuditLogEntry.objects.get(action="report.requested", target_id=str(artifact.pk)).entry_hash

    assert listed.splitlines()[0] == "2 embedded files"
    assert sorted(p.name for p in folder.iterdir()) == sorted(["manifest.json", workbook.name])
    assert manifest["files"] == [{"name": workbook.name, "size": workbook.stat().st_size,
                                  "sha256": hashlib.sha256(workbook.read_bytes()).hexdigest(),
                                  "media_type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}]
    assert manifest["chain_head"] == cover["Audit log chain head"] == artifact.chain_head == head
    assert head in pdf_text(path).replace(" ", "").replace("\n", "")
