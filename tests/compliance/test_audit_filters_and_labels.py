"""The audit log names targets in words and filters by what the log actually holds."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from compliance import audit
from compliance.audit_queries import target_type_label

pytestmark = pytest.mark.django_db


def test_a_model_target_type_reads_as_its_verbose_name_and_anything_else_stays_raw():
    assert target_type_label("reports.reportartifact") == "Report artifact"
    assert target_type_label("auth.user") == "User"
    assert target_type_label("nosuchapp.thing") == "nosuchapp.thing"  # decoy: dotted but not a model
    assert target_type_label("thing") == "thing"
    assert target_type_label("") == ""


def test_the_audit_page_shows_the_label_and_keeps_the_raw_type_as_a_tooltip(client_for, auditor):
    audit.record("report.generated", actor_label="carol", target_type="reports.reportartifact", target_id="7")

    body = client_for(auditor).get(reverse("audit:list")).content.decode()

    assert ">Report artifact</span>" in body
    assert 'title="reports.reportartifact"' in body
    assert ">reports.reportartifact<" not in body


def test_exports_carry_the_raw_target_type_and_the_label_in_their_own_columns(client_for, auditor):
    audit.record("report.generated", actor_label="carol", target_type="reports.reportartifact", target_id="7")
    client = client_for(auditor)

    rows = list(csv.DictReader(io.StringIO(client.get(reverse("audit:export", args=["csv"])).content.decode())))
    sheet = load_workbook(io.BytesIO(client.get(reverse("audit:export", args=["xlsx"])).content)).active
    header, *values = list(sheet.iter_rows(values_only=True))
    xlsx_rows = [dict(zip(header, row, strict=True)) for row in values]

    for exported in (rows, xlsx_rows):
        [generated] = [r for r in exported if r["action"] == "report.generated"]
        assert (generated["target_type"], generated["target_kind"]) == ("reports.reportartifact", "Report artifact")


def test_the_action_filter_offers_the_actions_present_grouped_by_prefix(client_for, auditor):
    audit.record("cleanup.approved", actor_label="april")
    audit.record("cleanup.proposed", actor_label="tom")
    audit.record("finding.accepted", actor_label="tom")

    body = client_for(auditor).get(reverse("audit:list")).content.decode()

    assert '<option value="cleanup.approved">cleanup.approved</option>' in body
    assert '<option value="cleanup">All cleanup actions</option>' in body
    assert '<option value="finding.accepted">finding.accepted</option>' in body
    assert 'value="report.generated"' not in body  # decoy: a real action name, absent from this log


def test_choosing_one_action_shows_only_it_and_choosing_a_group_shows_the_family(client_for, auditor):
    audit.record("cleanup.approved", actor_label="april")
    audit.record("cleanup.proposed", actor_label="tom")
    audit.record("cleanupish.other", actor_label="zed")  # decoy: shares the letters, not the prefix
    client = client_for(auditor)

    one = client.get(reverse("audit:list"), {"action": "cleanup.approved"}, headers={"HX-Request": "true"}).content
    family = client.get(reverse("audit:list"), {"action": "cleanup"}, headers={"HX-Request": "true"}).content

    assert b"cleanup.approved" in one and b"cleanup.proposed" not in one
    assert b"cleanup.approved" in family and b"cleanup.proposed" in family and b"cleanupish.other" not in family


def test_the_target_filter_narrows_to_one_type(client_for, auditor):
    audit.record("report.generated", actor_label="carol", target_type="reports.reportartifact")
    audit.record("people.user_created", actor_label="ann", target_type="auth.user")

    response = client_for(auditor).get(reverse("audit:list"), {"target_type": "auth.user"}, headers={"HX-Request": "true"})

    assert b"people.user_created" in response.content and b"report.generated" not in response.content


@pytest.mark.parametrize("query", [{"action": "cleanup.nothing"}, {"target_type": "reports.nothing"}, {"action": "cleanup.approved"}])
def test_a_value_not_in_the_log_is_refused_rather_than_an_empty_page(client_for, auditor, query):
    audit.record("finding.accepted", actor_label="tom", target_type="auth.user")

    response = client_for(auditor).get(reverse("audit:list"), query)

    assert response.status_code == 400


def test_the_filter_menus_list_each_value_present_once_in_order_and_never_the_empty_one():
    """distinct_values walks the column's index on PostgreSQL (one probe per value) instead of a
    DISTINCT over the whole log. Decoys: empty values, repeats, values differing only in case,
    a value that sorts between others, a value sharing a prefix with another."""
    for action, target_type in [("sign_in.succeeded", ""), ("cleanup.approved", "vaults.vault"), ("sign_in.succeeded", ""),
                                ("Cleanup.approved", "vaults.vault"), ("cleanup.approved.twice", "findings.finding"),
                                ("report.generated", "reports.reportartifact"), ("cleanup.approved", "")]:  # fmt: skip
        audit.record(action, actor_label="carol", target_type=target_type)
    from django.db import connection

    from compliance.audit_queries import distinct_values
    from compliance.models import AuditLogEntry

    for field in ("action", "target_type"):
        plain = list(AuditLogEntry.objects.exclude(**{field: ""}).order_by(field).values_list(field, flat=True).distinct())
        assert distinct_values(field) == plain
    assert sorted(distinct_values("action")) == ["Cleanup.approved", "cleanup.approved", "cleanup.approved.twice",
                                                 "report.generated", "sign_in.succeeded"]
    assert distinct_values("target_type") == ["findings.finding", "reports.reportartifact", "vaults.vault"]
    assert connection.vendor == "postgresql"  # the index walk is what this suite runs
