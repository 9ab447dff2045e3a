"""A signed-off access review exported as its own evidence: PDF and Excel with every entry, decision,
justification, reviewer and cleanup result, behind the report readers' role, audit-logged."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from compliance.models import AuditLogEntry
from compliance.reports import review_evidence
from compliance.reviews import review as flow
from compliance.reviews.models import AccessReview
from tests.compliance.reviews.signed_off_review import JUSTIFICATIONS
from tests.compliance.reviews.signed_off_review import pdf_reading_text as _pdf_text

pytestmark = pytest.mark.django_db


def test_the_pdf_holds_every_entry_decision_justification_reviewer_and_cleanup_result(signed_off, auditor, client_for):
    response = client_for(auditor).get(reverse("reviews:evidence_pdf", args=[signed_off.pk]))

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;") and ".pdf" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    assert response["X-Content-SHA256"] == hashlib.sha256(body).hexdigest()
    text = _pdf_text(body)
    for person in ("Alice Able", "Bob Broad", "Carol Crew", "Dora Decoy"):
        assert person in text, person
    for justification in JUSTIFICATIONS.values():
        assert justification in text, justification
    assert "Payments Production" in text and "Shared Corporate" in text
    assert "Change: remove Edit items" in text and "Revoke" in text and "Keep" in text
    assert "Tomas Lindqvist" in text and "Carol Compton" in text  # the reviewers, by name
    # sign-off block and cleanup results
    assert "Access review sign-off" in text and "Carol Compton (Compliance officer)" in text
    assert "Done" in text and "Failed" in text and "op: the vault grant was already removed" in text
    assert "April Appleby" in text and "Bea Brandt (Approver)" in text  # action approver, second approver
    # permissions in words, also an unknown one; never the raw underscore names
    assert "View and copy passwords" in text and "Read audit trail beta" in text and "Manage vault" in text
    for raw in ("view_and_copy_passwords", "read_audit_trail_beta", "manage_vault", "edit_items"):
        assert raw not in text, raw
    assert "(s)" not in text


def test_the_workbook_has_a_row_per_entry_and_the_cleanup_actions_with_status_and_approver(signed_off, compliance_officer,
                                                                                            client_for):
    response = client_for(compliance_officer).get(reverse("reviews:evidence_xlsx", args=[signed_off.pk]))

    assert response.status_code == 200 and ".xlsx" in response["Content-Disposition"]
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert wb.sheetnames == ["Cover", "Sign-offs", "Review and sign-off", "Decisions", "Cleanup actions"]
    decisions = wb["Decisions"]
    header = [c.value for c in decisions[1]]
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in decisions.iter_rows(min_row=2)]
    assert len(rows) == 5
    assert {r["Justification"] for r in rows} == set(JUSTIFICATIONS.values())
    bob = next(r for r in rows if r["Person"] == "Bob Broad")
    assert bob["Decision"] == "Revoke" and bob["Reviewer"] == "Tomas Lindqvist"
    assert bob["Permissions removed"] == "View items, Manage vault"
    assert bob["Outcome"].endswith(": Done") and bob["Decided (UTC)"] is not None
    actions = wb["Cleanup actions"]
    header = [c.value for c in actions[1]]
    by_person = {r["Person"]: r for r in (dict(zip(header, (c.value for c in row), strict=True))
                                          for row in actions.iter_rows(min_row=2))}
    assert set(by_person) == {"Bob Broad", "Alice Able", "Dora Decoy"}  # carol: only via a group, no action
    assert by_person["Bob Broad"]["Status"] == "Done" and by_person["Bob Broad"]["Approved by"].startswith("April Appleby")
    assert by_person["Dora Decoy"]["Status"] == "Failed"
    assert by_person["Dora Decoy"]["Result"] == "op: the vault grant was already removed"
    assert by_person["Alice Able"]["Status"] == "Awaiting approval" and not by_person["Alice Able"]["Approved by"]
    sign_offs = [c.value for c in wb["Sign-offs"][2]]
    assert "Carol Compton (Compliance officer)" in sign_offs and "Tomas Lindqvist (Team lead)" in sign_offs[2]


def test_each_download_is_audit_logged_with_the_files_hash(signed_off, auditor, client_for):
    response = client_for(auditor).get(reverse("reviews:evidence_xlsx", args=[signed_off.pk]))
    body = b"".join(response.streaming_content)

    entry = AuditLogEntry.objects.get(action="review.evidence_downloaded")
    assert entry.actor_label == auditor.get_username() or entry.actor_id == auditor.pk
    assert entry.details["sha256"] == hashlib.sha256(body).hexdigest() and entry.details["format"] == "xlsx"


def test_the_signed_off_review_page_offers_both_downloads_to_report_readers_only(signed_off, auditor, team_lead, client_for):
    page = client_for(auditor).get(reverse("reviews:detail", args=[signed_off.pk])).content.decode()
    assert reverse("reviews:evidence_pdf", args=[signed_off.pk]) in page
    assert reverse("reviews:evidence_xlsx", args=[signed_off.pk]) in page

    # a team lead may read the review but not download reports
    page = client_for(team_lead).get(reverse("reviews:detail", args=[signed_off.pk])).content.decode()
    assert "data-review-evidence" not in page
    assert client_for(team_lead).get(reverse("reviews:evidence_pdf", args=[signed_off.pk])).status_code == 403


def test_a_viewer_cannot_download_review_evidence(signed_off, viewer, client_for):
    for name in ("reviews:evidence_pdf", "reviews:evidence_xlsx"):
        assert client_for(viewer).get(reverse(name, args=[signed_off.pk])).status_code == 403


def test_a_review_not_signed_off_offers_no_export(org, opened, compliance_officer, auditor, client_for):
    page = client_for(auditor).get(reverse("reviews:detail", args=[opened.pk])).content.decode()
    assert "data-review-evidence" not in page
    assert client_for(auditor).get(reverse("reviews:evidence_pdf", args=[opened.pk])).status_code == 404

    # signed off by the first person but waiting for the second approver: not final either
    for entry in opened.entries.all():
        flow.decide(entry=entry, user=compliance_officer, decision="keep", justification="Needed.")
    AccessReview.objects.filter(pk=opened.pk).update(require_second_approver=True)
    flow.sign_off(review=AccessReview.objects.get(pk=opened.pk), user=compliance_officer)
    assert AccessReview.objects.get(pk=opened.pk).status == AccessReview.Status.AWAITING_SECOND
    assert client_for(auditor).get(reverse("reviews:evidence_xlsx", args=[opened.pk])).status_code == 404
    assert not AuditLogEntry.objects.filter(action="review.evidence_downloaded").exists()


def test_a_large_review_pdf_shows_the_first_rows_and_points_to_the_workbook(signed_off, auditor, client_for, monkeypatch):
    monkeypatch.setattr(review_evidence, "PDF_ROWS", 2)  # the bound, made small: five entries exceed it

    pdf = b"".join(client_for(auditor).get(reverse("reviews:evidence_pdf", args=[signed_off.pk])).streaming_content)
    xlsx = b"".join(client_for(auditor).get(reverse("reviews:evidence_xlsx", args=[signed_off.pk])).streaming_content)

    text = _pdf_text(pdf)
    assert "Showing the first 2 of 5 rows" in text and "Excel workbook" in text
    # entries are listed by vault, then person: Carol (third on Payments) is past the first two
    assert "Carol Crew" not in text and JUSTIFICATIONS["carol"] not in text
    assert load_workbook(io.BytesIO(xlsx))["Decisions"].max_row == 6  # the workbook has all five


def test_hostile_text_in_a_review_never_becomes_a_formula_or_markup(signed_off, auditor, client_for):
    hostile_title, hostile_reason = '=HYPERLINK("http://evil.example","x")', "@SUM(A1) <script>alert(1)</script>"
    AccessReview.objects.filter(pk=signed_off.pk).update(title=hostile_title)
    signed_off.entries.filter(decision="keep").update(justification=hostile_reason)

    xlsx = b"".join(client_for(auditor).get(reverse("reviews:evidence_xlsx", args=[signed_off.pk])).streaming_content)
    pdf = b"".join(client_for(auditor).get(reverse("reviews:evidence_pdf", args=[signed_off.pk])).streaming_content)

    wb = load_workbook(io.BytesIO(xlsx))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert "'" + hostile_title in {c.value for c in cells} and "'" + hostile_reason in {c.value for c in cells}
    assert "<script>alert(1)</script>" in _pdf_text(pdf).replace(" ", "")  # shown as text (it may wrap), not dropped



def test_the_review_pdf_embeds_its_workbook_with_every_entry_and_a_manifest_of_it(signed_off, auditor, client_for,
                                                                                  monkeypatch, tmp_path):
    monkeypatch.setattr(review_evidence, "PDF_ROWS", 2)  # the PDF shows two of the five entries
    response = client_for(auditor).get(reverse("reviews:evidence_pdf", args=[signed_off.pk]))
    path = tmp_path / "review.pdf"
    path.write_bytes(b"".join(response.streaming_content))
    folder = tmp_path / "detached"
    folder.mkdir()

    listed = subprocess.run(["pdfdetach", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    subprocess.run(["pdfdetach", "-saveall", "-o", str(folder), str(path)], check=True, capture_output=True)

    stem = response["Content-Disposition"].split("filename=")[1].strip('"').removesuffix(".pdf")
    workbook = folder / f"{stem}.xlsx"
    assert listed.splitlines()[0] == "2 embedded files"
    assert sorted(p.name for p in folder.iterdir()) == sorted(["manifest.json", workbook.name])
    decisions = load_workbook(io.BytesIO(workbook.read_bytes()))["Decisions"]
    assert decisions.max_row == 6  # header and all five entries, though the PDF lists two
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == "access_review" and manifest["parameters"]["review"] == signed_off.pk
    assert manifest["files"][0]["sha256"] == hashlib.sha256(workbook.read_bytes()).hexdigest()
