"""The findings API's answer is assembled once per version of the findings data
(openclaw_web/api/cached.py) and every call is still authenticated and audited.

Outside a test transaction, as production requests run (inside one nothing is cached, which
the comparison test uses to get the uncached answer).
"""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from compliance.models import AuditLogEntry
from openclaw_web import data_versions, fragment_cache, tokens
from tests.vaults.factories import make_item
from vaults.findings.engine import compute_findings
from vaults.findings.models import Finding

UNCLEAR = "/api/v1/findings?kind=unclear_name"
pytestmark = pytest.mark.usefixtures("redis_cache")


@pytest.fixture
def api(viewer) -> Client:
    _, clear = tokens.create_token(user=viewer, name="script")
    return Client(headers={"Authorization": f"Bearer {clear}"})


def _call(client: Client, path: str) -> tuple[dict, int]:
    """The answer and how many of the call's queries read findings."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.content
    return response.json(), sum('"findings_finding"' in q["sql"] for q in captured.captured_queries)


def _titles(answer: dict) -> list[str]:
    return sorted(finding["title"] for finding in answer["results"])


def test_the_answer_is_assembled_once_and_every_call_is_still_audited(api, organisation) -> None:
    audited = AuditLogEntry.objects.filter(action="api.call").count()

    first, first_queries = _call(api, UNCLEAR)
    again, again_queries = _call(api, UNCLEAR)

    assert first_queries >= 1 and again_queries == 0
    assert again == first and len(first["results"]) == 3
    assert AuditLogEntry.objects.filter(action="api.call").count() == audited + 2


def test_the_cached_answer_is_the_uncached_one_and_its_cursor_works(api, organisation) -> None:
    with transaction.atomic():  # nothing is cached inside a transaction
        uncached = api.get(UNCLEAR + "&limit=2").json()
    _call(api, UNCLEAR + "&limit=2")
    cached, queries = _call(api, UNCLEAR + "&limit=2")

    assert queries == 0
    # The cursor is signed with the time it was made; the findings are the same to the byte.
    assert {**cached, "next_cursor": None} == {**uncached, "next_cursor": None}
    rest, _ = _call(api, UNCLEAR + "&limit=2&cursor=" + cached["next_cursor"])
    assert len(rest["results"]) == 1 and rest["next_cursor"] is None
    assert not {f["id"] for f in rest["results"]} & {f["id"] for f in cached["results"]}


def test_calls_of_other_scripts_and_people_leave_the_answer_cached(api, auditor, client_for, organisation) -> None:
    _, other = tokens.create_token(user=auditor, name="theirs")
    _call(api, UNCLEAR)
    Client(headers={"Authorization": f"Bearer {other}"}).get("/api/v1/vaults")
    client_for(auditor).get(reverse("dashboard"))

    assert _call(api, UNCLEAR)[1] == 0


def test_accepting_a_risk_shows_in_the_next_answer(api, client_for, team_lead, organisation) -> None:
    first, _ = _call(api, UNCLEAR)
    finding = Finding.objects.filter(kind=Finding.Kind.UNCLEAR_NAME).order_by("pk").first()
    assert finding.pk in {f["id"] for f in first["results"]}

    client_for(team_lead).post(
        reverse("findings:accept"),
        {"ids": [finding.pk], "reason": "A test vault, retired next week.",
         "until": (timezone.now() + datetime.timedelta(days=7)).date(), "next": reverse("findings:list")},
    )  # fmt: skip

    assert finding.pk not in {f["id"] for f in _call(api, UNCLEAR)[0]["results"]}
    accepted, _ = _call(api, UNCLEAR + "&status=accepted")
    assert [(f["id"], f["accepted_by"]) for f in accepted["results"]] == [(finding.pk, team_lead.username)]


def test_a_findings_run_shows_in_the_next_answer(api, organisation) -> None:
    account, vault = organisation
    assert "Unclear name: Untitled" not in _titles(_call(api, UNCLEAR)[0])
    make_item(vault=vault, title="Untitled")

    compute_findings(account=account, now=timezone.now())

    assert "Unclear name: Untitled" in _titles(_call(api, UNCLEAR)[0])


def test_a_revoked_token_is_refused_though_its_answer_is_cached(viewer, organisation) -> None:
    token, clear = tokens.create_token(user=viewer, name="soon revoked")
    script = Client(headers={"Authorization": f"Bearer {clear}"})
    _call(script, UNCLEAR)

    tokens.revoke_token(token=token, by=viewer)

    assert script.get(UNCLEAR).status_code == 401


def test_the_answer_carries_the_apis_content_type(api, organisation) -> None:
    ninja_answered = api.get("/api/v1/health")  # a route ninja renders itself

    for response in (api.get(UNCLEAR), api.get(UNCLEAR)):  # rendered, then from the cache
        assert response["Content-Type"] == ninja_answered["Content-Type"] == "application/json; charset=utf-8"


def test_reordered_or_unknown_parameters_share_the_answer_and_other_values_do_not(api, organisation) -> None:
    _call(api, UNCLEAR)

    assert _call(api, UNCLEAR + "&status=open&utm_source=mail")[1] == 0
    assert _call(api, "/api/v1/findings?status=open&kind=unclear_name&limit=50")[1] == 0
    assert _call(api, UNCLEAR + "&limit=2")[1] >= 1  # decoy: another page size is another answer


def test_while_another_call_renders_the_new_answer_none_gets_the_old_one(
    api, organisation, redis_cache, monkeypatch
) -> None:
    account, vault = organisation
    _call(api, UNCLEAR)  # the answer before the run, kept as the last good copy
    [last_good] = [key.decode() for key in redis_cache.keys("*fragment:*:last")]
    make_item(vault=vault, title="Untitled")
    compute_findings(account=account, now=timezone.now())
    # Another worker has begun rendering the new answer and holds its lock (and may die holding it).
    stable = last_good.split(":", 2)[-1].removesuffix(":last")
    assert cache.add(f"{stable}:{data_versions.read().key()}:lock", 1, 60)
    monkeypatch.setattr(fragment_cache, "WAIT_SECONDS", 0.3)  # how long a call waits before rendering itself

    assert "Unclear name: Untitled" in _titles(_call(api, UNCLEAR)[0])
