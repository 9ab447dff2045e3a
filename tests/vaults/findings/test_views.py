from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from compliance.models import AuditLogEntry
from tests.vaults.factories import make_item, make_vault
from vaults.findings.engine import compute_findings
from vaults.findings.models import Finding
from vaults.models import Vault

LIST = reverse("findings:list")


def _unclear_items(vault, n):
    for i in range(n):
        make_item(vault=vault, title=f"Password {i}", tags=[] if i % 2 else ["x"])


@pytest.fixture
def findings(account, prod_vault, now):
    _unclear_items(prod_vault, 3)
    compute_findings(account=account, now=now)
    return list(Finding.objects.all())


def test_the_list_shows_open_findings(client_for, viewer, findings) -> None:
    response = client_for(viewer).get(LIST)

    assert response.status_code == 200
    assert b"Unclear name: Password 0" in response.content
    assert b"<html" in response.content.lower()


def test_an_htmx_request_gets_only_the_table_partial(client_for, viewer, findings) -> None:
    response = client_for(viewer).get(LIST, {"kind": "unclear_name"}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert b"<html" not in response.content.lower()
    assert b"findings-table" in response.content


def test_filters_are_reflected_in_the_form_and_the_results(client_for, viewer, findings) -> None:
    response = client_for(viewer).get(LIST, {"kind": "missing_metadata", "severity": "low"})

    page = response.context["page"]
    assert {f.kind for f in page} == {"missing_metadata"}
    assert b'<option value="missing_metadata" selected>' in response.content


def test_an_invalid_filter_is_a_400(client_for, viewer, findings) -> None:
    assert client_for(viewer).get(LIST, {"severity": "catastrophic"}).status_code == 400
    assert client_for(viewer).get(LIST, {"vault": "999999"}).status_code == 400
    assert client_for(viewer).get(LIST, {"page": "-1"}).status_code == 400


def test_search_expands_synonyms_across_title_category_and_field_labels(client_for, viewer, account, prod_vault, now) -> None:
    make_item(vault=prod_vault, title="PostgreSQL Production", category="DATABASE", tags=[],
              field_labels=[{"label": "password", "type": "CONCEALED"}])  # fmt: skip
    make_item(vault=prod_vault, title="Mailchimp Staging", category="LOGIN", tags=[])
    compute_findings(account=account, now=now)

    response = client_for(viewer).get(LIST, {"q": "db pw prod"})

    titles = [f.title for f in response.context["page"]]
    assert titles and all("PostgreSQL Production" in t for t in titles)


def test_filtering_by_vault_includes_groups_touching_it(client_for, viewer, account, prod_vault, dev_vault, now) -> None:
    from tests.vaults.factories import make_secret

    for vault in (prod_vault, dev_vault):
        make_secret(item=make_item(vault=vault, title=f"Stripe {vault.name} Key"), fingerprint="ee" * 32)
    compute_findings(account=account, now=now)

    response = client_for(viewer).get(LIST, {"vault": dev_vault.pk, "kind": "duplicate"})

    assert len(response.context["page"]) == 1


def test_sorting_by_first_seen_is_accepted(client_for, viewer, findings) -> None:
    assert client_for(viewer).get(LIST, {"sort": "-first_seen", "status": "all"}).status_code == 200


@pytest.mark.parametrize("n_items", [10, 200])
def test_the_list_runs_a_constant_number_of_queries(client_for, viewer, account, now, django_assert_max_num_queries, n_items) -> None:
    for v in range(5):
        _unclear_items(make_vault(account=account, name=f"Vault {v}", classification=Vault.Classification.SHARED), n_items // 5)
    compute_findings(account=account, now=now)
    client = client_for(viewer)

    with django_assert_max_num_queries(9):
        response = client.get(LIST, {"sort": "title"})

    # An error page would also run few queries: the capped page must be the list of findings.
    assert response.status_code == 200
    assert "Missing tags: Password 1" in response.content.decode()


def test_hostile_titles_are_escaped_and_truncated(client_for, viewer, account, prod_vault, now) -> None:
    make_item(vault=prod_vault, title='<script>alert(1)</script>=HYPERLINK("http://evil")' + "A" * 10_000)
    compute_findings(account=account, now=now)

    response = client_for(viewer).get(LIST)
    finding = Finding.objects.filter(kind="unclear_name").first()
    detail = client_for(viewer).get(reverse("findings:detail", args=[finding.pk]))

    for page in (response, detail):
        assert b"<script>alert(1)" not in page.content
        assert b"&lt;script&gt;" in page.content
        assert b"A" * 1000 not in page.content


def test_the_detail_page_shows_explanation_and_history(client_for, viewer, findings) -> None:
    finding = findings[0]

    response = client_for(viewer).get(reverse("findings:detail", args=[finding.pk]))

    assert response.status_code == 200
    assert finding.explanation.encode() in response.content.replace(b"&ldquo;", "“".encode()).replace(b"&rdquo;", "”".encode()) or b"first found" in response.content


def test_a_viewer_cannot_accept_a_risk(client_for, viewer, findings) -> None:
    response = client_for(viewer).post(
        reverse("findings:accept"), {"ids": [findings[0].pk], "reason": "x", "until": "2999-01-01"}
    )

    assert response.status_code == 403
    assert Finding.objects.get(pk=findings[0].pk).status == Finding.Status.OPEN


def test_a_team_lead_accepts_risks_in_bulk_and_each_is_audited(client_for, team_lead, findings) -> None:
    until = timezone.localdate() + datetime.timedelta(days=30)
    ids = [f.pk for f in findings[:2]]

    response = client_for(team_lead).post(
        reverse("findings:accept"), {"ids": ids, "reason": "Legacy system, replaced in Q3", "until": until.isoformat()}
    )

    assert response.status_code == 302
    accepted = Finding.objects.filter(pk__in=ids)
    assert {f.status for f in accepted} == {Finding.Status.ACCEPTED}
    assert {f.accepted_by for f in accepted} == {team_lead}
    entries = AuditLogEntry.objects.filter(action="finding.risk_accepted")
    assert sorted(int(e.target_id) for e in entries) == sorted(ids)
    assert entries.first().details["reason"] == "Legacy system, replaced in Q3"


def test_accepting_twice_records_only_once(client_for, team_lead, findings) -> None:
    until = (timezone.localdate() + datetime.timedelta(days=30)).isoformat()
    data = {"ids": [findings[0].pk], "reason": "ok", "until": until}
    client = client_for(team_lead)

    client.post(reverse("findings:accept"), data)
    client.post(reverse("findings:accept"), data)

    assert AuditLogEntry.objects.filter(action="finding.risk_accepted").count() == 1


def test_an_expiry_in_the_past_is_refused(client_for, team_lead, findings) -> None:
    client_for(team_lead).post(reverse("findings:accept"), {"ids": [findings[0].pk], "reason": "x", "until": "2000-01-01"})

    assert Finding.objects.get(pk=findings[0].pk).status == Finding.Status.OPEN


def test_reopen_puts_an_accepted_finding_back_and_is_audited(client_for, compliance_officer, findings) -> None:
    Finding.objects.filter(pk=findings[0].pk).update(status=Finding.Status.ACCEPTED)

    response = client_for(compliance_officer).post(reverse("findings:reopen"), {"ids": [findings[0].pk]})

    assert response.status_code == 302
    assert Finding.objects.get(pk=findings[0].pk).status == Finding.Status.OPEN
    assert AuditLogEntry.objects.filter(action="finding.reopened", target_id=str(findings[0].pk)).exists()


def test_accept_only_takes_post(client_for, team_lead) -> None:
    assert client_for(team_lead).get(reverse("findings:accept")).status_code == 405


def test_a_redirect_never_leaves_the_site(client_for, team_lead, findings) -> None:
    until = (timezone.localdate() + datetime.timedelta(days=30)).isoformat()
    response = client_for(team_lead).post(
        reverse("findings:accept"), {"ids": [findings[0].pk], "reason": "x", "until": until, "next": "https://evil.example/"}
    )

    assert response["Location"] == LIST
