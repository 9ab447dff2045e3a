"""The read-only JSON API: what each endpoint returns, filters, cursor pagination, the audit
entry of every call, and the generated OpenAPI document."""

from __future__ import annotations

import pytest
from django.test import Client

from compliance.models import AuditLogEntry
from tests.security.planted import api_list_urls, bearer_for, plant
from tests.vaults import factories
from vaults.findings.models import Finding

pytestmark = pytest.mark.django_db


@pytest.fixture
def planted(admin_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return plant(titles=["Stripe Production API Key", "GitHub Deploy Token", "Postgres Production Password"], opened_by=admin_user)


@pytest.fixture
def api(admin_user):
    client = Client(headers=bearer_for(admin_user))
    return client


def test_every_endpoint_answers_json_with_a_token(api, planted):
    for url in api_list_urls(planted):
        response = api.get(url)
        assert response.status_code == 200, (url, response.content[:300])
        assert response["Content-Type"].startswith("application/json")


def test_items_carry_strength_facts_but_never_a_fingerprint(api, planted):
    body = api.get(f"/api/v1/items/{planted.items[0].pk}").json()

    assert body["secret_fields"][0]["zxcvbn_score"] == 1
    assert body["secret_fields"][0]["strength"] == "WEAK"
    fingerprint = planted.items[0].secret_fields.get().fingerprint
    assert fingerprint and fingerprint not in api.get("/api/v1/items").content.decode()
    assert "fingerprint" not in api.get("/api/v1/items").content.decode()


def test_findings_never_expose_their_key(api, planted):
    body = api.get("/api/v1/findings").content.decode()

    assert '"key"' not in body and "item:" not in body


def test_findings_accept_the_same_filters_as_the_page(api, planted):
    other_vault = factories.make_vault(account=planted.account, name="Other")
    other = Finding.objects.create(account=planted.account, kind=Finding.Kind.ORPHANED, severity=Finding.Severity.LOW,
                                   severity_rank=1, vault=other_vault, key="o", title="Orphaned thing",
                                   explanation="x", search_text="orphaned thing", first_seen=planted.findings[0].first_seen,
                                   last_seen=planted.findings[0].last_seen, status=Finding.Status.RESOLVED)

    def ids(query):
        return {f["id"] for f in api.get(f"/api/v1/findings?{query}").json()["results"]}

    weak = {f.pk for f in planted.findings}
    assert ids("") == weak  # open by default, as on the page
    assert ids("kind=weak") == weak
    assert ids("kind=orphaned") == set()
    assert ids("kind=orphaned&status=resolved") == {other.pk}
    assert ids("status=all&severity=low") == {other.pk}
    assert ids(f"status=all&vault={other_vault.pk}") == {other.pk}
    assert ids("q=github") == {planted.findings[1].pk}
    assert ids("q=db password prod") == {planted.findings[2].pk}  # the page's synonyms


@pytest.mark.parametrize("query", ["kind=nope", "severity=urgent", "status=gone", "vault=999999", "q=" + "x" * 201, "limit=0", "limit=201"])
def test_invalid_filters_are_client_errors(api, planted, query):
    assert api.get(f"/api/v1/findings?{query}").status_code in (400, 422)


def test_cursor_pagination_walks_every_row_once_in_a_stable_order(api, planted):
    for n in range(7):
        factories.make_item(vault=planted.vault, title=f"Extra {n}")
    seen: list[int] = []
    url = "/api/v1/items?limit=3"
    while url:
        body = api.get(url).json()
        assert len(body["results"]) <= 3
        seen += [item["id"] for item in body["results"]]
        url = f"/api/v1/items?limit=3&cursor={body['next_cursor']}" if body["next_cursor"] else ""

    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == 10


def test_findings_pages_run_by_severity_then_id(api, planted):
    low = Finding.objects.create(account=planted.account, kind=Finding.Kind.UNCLEAR_NAME, severity=Finding.Severity.LOW,
                                 severity_rank=1, key="low", title="x", explanation="x", first_seen=planted.findings[0].first_seen,
                                 last_seen=planted.findings[0].first_seen)
    first = api.get("/api/v1/findings?limit=2").json()
    second = api.get(f"/api/v1/findings?limit=2&cursor={first['next_cursor']}").json()

    order = [f["id"] for f in first["results"] + second["results"]]
    assert order == [*sorted(f.pk for f in planted.findings), low.pk]
    assert second["next_cursor"] is None


@pytest.mark.parametrize("cursor", ["garbage", "eyJvIjpbImlkIl0sInYiOlsxXX0", "a" * 1999])
def test_a_forged_cursor_is_a_400(api, planted, cursor):
    response = api.get(f"/api/v1/items?cursor={cursor}")

    assert response.status_code == 400
    assert "cursor" in response.json()["detail"]


def test_a_cursor_from_another_listing_is_refused(api, planted):
    cursor = api.get("/api/v1/findings?limit=1").json()["next_cursor"]

    assert api.get(f"/api/v1/items?cursor={cursor}").status_code == 400


def test_health_gives_the_latest_score_per_scope_and_history_oldest_first(api, planted):
    current = api.get("/api/v1/health").json()
    history = api.get("/api/v1/health/history").json()["results"]

    assert [(s["vault_id"], s["score"]) for s in current] == [(None, 70), (planted.vault.pk, 60)]
    assert current[0]["band"] == "needs-attention"
    assert [s["score"] for s in history] == [72, 71, 70]


def test_review_entries_filter_by_decision(api, planted):
    entry = planted.entries[0]
    entry.decision = "revoke"
    entry.save()
    url = f"/api/v1/reviews/{planted.review.pk}/entries"

    assert [e["id"] for e in api.get(f"{url}?decision=revoke").json()["results"]] == [entry.pk]
    assert len(api.get(f"{url}?decision=undecided").json()["results"]) == 2


def test_report_download_returns_the_file_and_is_audit_logged_with_its_hash(api, planted):
    artifact = planted.artifact

    response = api.get(f"/api/v1/reports/{artifact.pk}/download")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"PK fake workbook"
    assert response["X-Content-SHA256"] == artifact.sha256
    entry = AuditLogEntry.objects.order_by("-seq").first()
    assert entry.action == "report.downloaded"
    assert entry.target_id == str(artifact.pk)
    assert entry.details["sha256"] == artifact.sha256
    assert entry.details["status"] == 200


def test_an_unfinished_or_escaping_report_file_is_a_404(api, planted):
    artifact = planted.artifact
    artifact.file_path = "../../etc/passwd"
    artifact.save()

    assert api.get(f"/api/v1/reports/{artifact.pk}/download").status_code == 404
    artifact.status = "running"
    artifact.save()
    assert api.get(f"/api/v1/reports/{artifact.pk}").json()["download_url"] is None


def test_every_call_leaves_exactly_one_audit_entry_naming_the_tokens_owner(api, planted, admin_user):
    before = AuditLogEntry.objects.count()

    api.get("/api/v1/findings?kind=weak")
    api.get("/api/v1/vaults/999999")

    entries = list(AuditLogEntry.objects.order_by("seq")[before:])
    assert [e.action for e in entries] == ["api.call", "api.call"]
    assert all(e.actor_id == admin_user.pk for e in entries)
    assert entries[0].details["query"] == "kind=weak"
    assert entries[0].details["status"] == 200
    assert entries[1].details["status"] == 404
    assert entries[0].details["via"].startswith("token ")


def test_refused_calls_are_audit_logged_too(planted):
    before = AuditLogEntry.objects.count()

    response = Client().get("/api/v1/vaults", headers={"Authorization": "Bearer oc_nope_nope"})

    assert response.status_code == 401
    entry = AuditLogEntry.objects.order_by("-seq").first()
    assert AuditLogEntry.objects.count() == before + 1
    assert entry.actor_id is None and entry.details["status"] == 401


def test_the_session_works_for_browser_use(client_for, viewer, planted):
    response = client_for(viewer).get("/api/v1/vaults")

    assert response.status_code == 200
    assert AuditLogEntry.objects.order_by("-seq").first().details["via"] == "session"


def test_an_invalid_bearer_token_is_refused_even_with_a_session(client_for, viewer, planted):
    client = client_for(viewer)

    assert client.get("/api/v1/vaults", headers={"Authorization": "Bearer oc_wrong_token"}).status_code == 401
    assert client.get("/api/v1/vaults", headers={"Authorization": "Basic dXNlcjpwYXNz"}).status_code == 401


def test_the_openapi_document_is_generated_and_served_and_there_is_no_cdn_docs_page(planted):
    response = Client().get("/api/v1/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert "/api/v1/findings" in schema["paths"]
    assert {p["name"] for p in schema["paths"]["/api/v1/findings"]["get"]["parameters"]} >= {"kind", "severity", "vault", "status", "q", "cursor", "limit"}
    assert schema["components"]["securitySchemes"]["ApiAuth"]["scheme"] == "bearer"
    assert Client().get("/api/v1/docs").status_code == 404


def test_list_endpoints_use_a_bounded_number_of_queries(api, planted, django_assert_max_num_queries):
    for n in range(30):
        factories.make_secret(item=factories.make_item(vault=planted.vault, title=f"More {n}"))
    # token lookup, audit append (lock, last row, insert), page, prefetch: independent of rows
    with django_assert_max_num_queries(12):
        items = api.get("/api/v1/items?limit=200")
    with django_assert_max_num_queries(12):
        findings = api.get("/api/v1/findings?limit=200")

    # An error answers in few queries too: the capped answers must hold every row.
    assert items.status_code == 200 and findings.status_code == 200
    assert {"More 0", "More 29"} <= {row["title"] for row in items.json()["results"]}
    assert len(findings.json()["results"]) == Finding.objects.filter(status=Finding.Status.OPEN).count() >= 1
