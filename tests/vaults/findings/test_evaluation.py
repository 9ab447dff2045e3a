"""Measured, not assumed: the labelled evaluation organisation (2,000+ items, 200+ people, events),
synced through the real fake `op` subprocess and its Events API, gives every finding kind and
every access anomaly precision 1.0 and recall 1.0, and no decoy is reported as the kind it
imitates (a reused secret across services, a card's CVV, a deprecated tag, a shared production
login, a personal login, legacy permissions, every user state, the service account itself,
anomalies per item and per person); and each leaver's offboarding plan lists exactly what they used."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from compliance.reports.anomaly_observations import observed_anomalies
from tests.vaults.conftest import FAKE_OP
from vaults import sync
from vaults.access_expiry.evaluation import seed_end_dates
from vaults.fake_op.evaluation import ANOMALY_KINDS, SUBJECT_OF, generate_evaluation_organisation
from vaults.fake_op.events_server import start_events_server
from vaults.findings.engine import compute_findings
from vaults.findings.evaluation import KindScore, observed_findings, score, table
from vaults.findings.models import Finding
from vaults.models import Account, OpUser, SyncRun
from vaults.offboarding.plan import build_plan

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

FINDING_KINDS = [str(kind) for kind in Finding.Kind]


@pytest.fixture(scope="module")
def evaluation_org(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The evaluation organisation written to an account file, the fake `op` as OP_BIN and the
    fake Events API serving its events (as tests/vaults/conftest.py's `fake_org` does), synced
    once for this module: the sync of 2,000+ items is the slow part, and every test here only
    reads what it stored. Everything is rolled back at the module's end; each test runs in a
    savepoint inside that transaction. So no test of this module may be transactional
    (`transaction=True`, `live_server`, `celery_worker`): another connection would not see the
    organisation, and its flush would empty it."""
    tmp_path = tmp_path_factory.mktemp("evaluation")
    now = datetime.now(UTC).replace(microsecond=0)
    data = generate_evaluation_organisation(now=now)
    path = tmp_path / "evaluation.json"
    path.write_text(json.dumps(data))
    url, stop = start_events_server(str(path))
    with pytest.MonkeyPatch.context() as monkeypatch, override_settings(OP_BIN=str(FAKE_OP), OP_MAX_RETRIES=2), \
            django_db_blocker.unblock(), transaction.atomic():
        monkeypatch.setenv("FAKE_OP_ACCOUNT", str(path))
        monkeypatch.setenv("FAKE_OP_CALL_LOG", str(tmp_path / "calls.jsonl"))
        monkeypatch.setenv("OP_SERVICE_ACCOUNT_TOKEN", data["tokens"][0]["token"])
        monkeypatch.setenv("OP_EVENTS_TOKEN", data["events_token"])
        monkeypatch.setenv("OP_BIN", str(FAKE_OP))
        try:
            account = Account.objects.create(name="Evaluation", token_env="OP_SERVICE_ACCOUNT_TOKEN", events_url=url,
                                             events_token_env="OP_EVENTS_TOKEN")  # fmt: skip
            run, _ = sync.start_sync(account=account)
            run = sync.run_sync(sync_run_id=run.pk)
            assert run.status == SyncRun.Status.SUCCEEDED, run.error
            seed_end_dates(account=account, data=data)  # OpenClaw's own data: access end dates
            compute_findings(account=account, sync_run=run)
            yield path, data
        finally:
            transaction.set_rollback(True)
            stop()


def _scores(data: dict[str, Any]) -> list[KindScore]:
    account = Account.objects.get(name="Evaluation")
    observed = {**observed_findings(account), **observed_anomalies(account, now=datetime.now(UTC))}
    return score(data["labels"], observed, [*FINDING_KINDS, *ANOMALY_KINDS])


def test_the_organisation_is_big_enough_and_labels_every_kind_with_true_cases_and_decoys() -> None:
    data = generate_evaluation_organisation(now=datetime(2026, 11, 27, 12, 0, tzinfo=UTC))
    labels = data["labels"]

    assert len([i for i in data["items"] if i["state"] == "ACTIVE"]) >= 2000
    assert len(data["users"]) >= 200 and len(data["events"]["itemusages"]) > 2000
    assert set(labels["subject_of"]) == set(FINDING_KINDS) | set(ANOMALY_KINDS) == set(SUBJECT_OF)
    assert all(labels["expected"][kind] for kind in SUBJECT_OF), "every kind has planted true cases"
    decoy_kinds = {d["kind"] for d in labels["decoys"]}
    assert decoy_kinds == set(SUBJECT_OF), "every kind has decoys"
    states = {u["state"] for u in data["users"]}
    assert states >= {"ACTIVE", "RECOVERY_STARTED", "RECOVERY_ACCEPTED", "SUSPENDED", "TRANSFER_STARTED",
                      "TRANSFER_SUSPENDED"}  # fmt: skip
    for decoy in labels["decoys"]:
        assert decoy["reason"] and decoy["subject"] not in labels["expected"][decoy["kind"]], decoy


def test_score_counts_true_and_false_positives_and_names_the_decoys_that_fired() -> None:
    labels = {
        "expected": {"weak": ["a", "b"], "duplicate": [["x", "y"]]},
        "decoys": [
            {"kind": "weak", "subject": "card", "reason": "card CVV"},
            {"kind": "weak", "subject": "otp", "reason": "one-time code"},
            {"kind": "duplicate", "subject": ["p", "q", "r"], "reason": "reuse, not copies"},
        ],
    }
    observed = {"weak": {"a", "card"}, "duplicate": {"x+y", "q+r"}}

    weak, duplicate = score(labels, observed, ["weak", "duplicate"])

    assert (weak.planted, weak.decoys, weak.true_positives) == (2, 2, 1)
    assert weak.false_positives == ["card"] and weak.false_negatives == ["b"]
    assert (weak.precision, weak.recall) == (0.5, 0.5) and weak.decoys_fired == ["card CVV"]
    assert duplicate.true_positives == 1 and duplicate.decoys_fired == ["reuse, not copies"]
    assert "| weak | 2 | 2 | 1 | 1 | 1 | 0.500 | 0.500 |" in table([weak, duplicate])


def test_demo_account_evaluation_writes_the_labelled_organisation(tmp_path: Path) -> None:
    out = tmp_path / "evaluation.json"

    call_command("demo_account", "--out", str(out), "--evaluation", "--now", "2026-11-27T12:00:00Z", stdout=StringIO())

    data = json.loads(out.read_text())
    assert data["labels"]["expected"]["reused_secret"] and data["labels"]["decoys"]
    assert len(data["items"]) >= 2000 and len(data["users"]) >= 200


def test_every_kind_has_precision_and_recall_one_on_the_evaluation_organisation(evaluation_org, capsys) -> None:
    _, data = evaluation_org

    scores = _scores(data)
    with capsys.disabled():
        print("\n" + table(scores))

    misses = {s.kind: (s.false_positives[:5], s.false_negatives[:5]) for s in scores if s.precision < 1 or s.recall < 1}
    assert misses == {}
    assert all(s.planted > 0 and s.true_positives == s.planted for s in scores)
    # No decoy is reported as the kind it imitates.
    assert {s.kind: s.decoys_fired for s in scores if s.decoys_fired} == {}


# The same organisation's leavers (offboarding): each suspended member's plan lists exactly the live
# items they used in the window (labelled from the planted events), none of the decoys (items only
# others used, in vaults the leaver cannot reach), production first and then by how the secret was touched.
def test_each_leavers_plan_lists_exactly_what_they_used_and_no_decoy(evaluation_org: Any) -> None:
    _path, data = evaluation_org
    labels = data["offboarding_labels"]
    assert sum(1 for label in labels if label["used_items"]) >= 5
    now = timezone.now()
    for label in labels:
        person = OpUser.objects.get(op_id=label["user_id"])
        plan = build_plan(person, since=now - timedelta(days=90), until=now)
        used = sorted(line.item_op_id for line in plan.lines if line.uses)
        assert used == label["used_items"], label["email"]
        listed = {line.item_op_id for line in plan.lines}
        assert not listed & set(label["decoy_items"]), label["email"]
        order = [(not line.production, line.touch_rank) for line in plan.lines]
        assert order == sorted(order), label["email"]
        for line in plan.lines:
            assert line.reason.startswith("The person ") if line.uses else line.reason.startswith("Not used in the window")
