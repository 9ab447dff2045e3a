"""Anchors of the audit chain (compliance/audit_anchors.py): a chain whose newest entries were cut is
intact in itself; the report artifacts, the daily anchor rows and the anchor file outside the
database say it was longer. Also the keyed hashes: a chain recomputed without AUDIT_KEY fails.

Runs on the suite's PostgreSQL; the last test runs the same scenarios on SQLite in a process of its
own (tests/compliance/sqlite_audit_chain.py), with `manage.py verify_audit_log`'s exit status."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import stat
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from compliance import audit
from compliance.audit_anchors import AnchorRefused, verify_anchors, write_anchor
from compliance.models import AuditAnchor, AuditLogEntry
from compliance.reports.models import ReportArtifact
from compliance.reviews.periods import period_containing
from compliance.tasks import write_audit_anchor_task
from openclaw_web import dispatch
from tests.compliance.audit_chain_scenarios import cut_tail, drop_anchor_rows, record, rehash_chain
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def anchor_file(settings, tmp_path):
    settings.AUDIT_ANCHOR_FILE = tmp_path / "anchors" / "audit-anchor.json"
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.AUDIT_ANCHOR_FILE


def verify_fails(capsys) -> str:
    with pytest.raises(CommandError, match="BROKEN"):
        call_command("verify_audit_log")
    return capsys.readouterr().err


def generate_report() -> ReportArtifact:
    call_command("generate_report", "hygiene", "--period", period_containing(timezone.now()).label, "--format", "xlsx")
    return ReportArtifact.objects.get()


def test_a_healthy_chain_with_a_report_a_daily_anchor_and_the_file_verifies(anchor_file, capsys):
    record(5)
    write_anchor(source=AuditAnchor.Source.DAILY)
    artifact = generate_report()
    record(3, start=5)

    call_command("verify_audit_log")

    out = capsys.readouterr()
    # The newest entry when the report was built: its own request (the "generated" entry comes after).
    requested = AuditLogEntry.objects.get(action="report.requested")
    assert (artifact.chain_seq, artifact.chain_head) == (requested.seq, requested.entry_hash) == (6, requested.entry_hash)
    assert "Audit log intact" in out.out
    assert "Anchors matching the chain: 3" in out.out  # the row, the artifact, the file
    assert out.err == ""


def test_cutting_the_newest_entries_fails_through_the_anchor_file(anchor_file, capsys):
    record(5)
    write_anchor(source=AuditAnchor.Source.DAILY)
    record(3, start=5)
    cut_tail(from_seq=4)
    drop_anchor_rows()  # whoever cut the log also removes the anchor rows in the database

    err = verify_fails(capsys)

    assert audit.verify_chain().ok  # what is left is a perfect chain: only the anchor shows the cut
    assert f"external anchor file {anchor_file}" in err
    assert "it names entry #5, but the chain now ends at #3" in err
    assert len(verify_anchors().problems) == 1


def test_cutting_back_past_a_daily_anchor_row_fails_through_that_row(anchor_file, capsys):
    record(4)
    anchor = write_anchor(source=AuditAnchor.Source.DAILY)
    anchor_file.unlink()
    cut_tail(from_seq=3)

    err = verify_fails(capsys)

    assert f"audit anchor #{anchor.pk} (daily, " in err
    assert "it names entry #4, but the chain now ends at #2" in err


def test_cutting_back_past_a_reports_chain_head_fails_through_the_artifact(capsys):
    record(3)
    artifact = generate_report()
    record(2, start=3)
    assert artifact.chain_seq is not None
    cut_tail(from_seq=artifact.chain_seq)

    err = verify_fails(capsys)

    assert f"report artifact #{artifact.pk} (hygiene " in err
    assert f"it names entry #{artifact.chain_seq}, but the chain now ends at #{artifact.chain_seq - 1}" in err


def test_a_cut_followed_by_new_entries_up_to_the_anchored_number_is_still_found(anchor_file, capsys):
    record(5)
    write_anchor(source=AuditAnchor.Source.DAILY)
    cut_tail(from_seq=4)
    drop_anchor_rows()
    record(2, start=100)  # the log is as long as before, with other entries

    err = verify_fails(capsys)

    assert "entry #5 now has hash" in err and "the chain was rewritten up to that entry" in err


@pytest.mark.parametrize(("scheme", "key"), [("sha256", ""), ("hmac-sha256", "a key of the attacker's own")],
                         ids=["plain-sha256", "wrong-key"])
def test_a_chain_recomputed_without_the_audit_key_fails(scheme, key, capsys):
    record(4)
    rehash_chain(scheme=scheme, key=key)

    err = verify_fails(capsys)

    if scheme == "sha256":
        assert "the newest entry is not keyed" in err
    else:
        assert "entry #1: content does not match its hash" in err
        assert "entry #4: content does not match its hash" in err


def test_plain_entries_from_before_the_key_verify_when_a_keyed_entry_follows_them(capsys):
    # What an upgraded installation looks like: its old rows rehashed nowhere, a keyed one after them.
    record(3)
    rehash_chain(scheme="sha256")
    record(1, start=3)

    call_command("verify_audit_log")

    assert list(AuditLogEntry.objects.order_by("seq").values_list("hash_scheme", flat=True)) == ["sha256"] * 3 + ["hmac-sha256"]
    assert "Audit log intact: 4 entries" in capsys.readouterr().out


def test_a_keyed_chain_rehashed_with_the_right_key_is_unchanged_and_verifies(settings, capsys):
    # Decoy: the same recomputation as the attack, with the real key, gives back the same hashes.
    record(3)
    before = list(AuditLogEntry.objects.order_by("seq").values_list("entry_hash", flat=True))
    rehash_chain(scheme="hmac-sha256", key=settings.AUDIT_KEY)

    call_command("verify_audit_log")

    assert list(AuditLogEntry.objects.order_by("seq").values_list("entry_hash", flat=True)) == before


def test_an_entry_hash_depends_on_the_audit_key(settings):
    record(1)
    entry = AuditLogEntry.objects.get()

    settings.AUDIT_KEY = "another key"

    assert entry.hash_scheme == "hmac-sha256"
    assert not audit.verify_chain().ok


def test_a_new_anchor_is_refused_while_the_one_on_file_contradicts_the_chain(anchor_file):
    record(5)
    write_anchor(source=AuditAnchor.Source.DAILY)
    kept = anchor_file.read_bytes()
    cut_tail(from_seq=2)

    with pytest.raises(AnchorRefused, match="no longer matches the audit chain"):
        write_audit_anchor_task()

    assert anchor_file.read_bytes() == kept
    assert AuditAnchor.objects.count() == 1


def test_the_anchor_file_is_owner_only_and_names_the_newest_entry(anchor_file):
    record(2)
    write_anchor(source=AuditAnchor.Source.DAILY)
    record(1, start=2)

    write_anchor(source=AuditAnchor.Source.VERIFY)

    newest = AuditLogEntry.objects.get(seq=3)
    content = json.loads(anchor_file.read_text())
    assert (content["seq"], content["entry_hash"], content["source"]) == (3, newest.entry_hash, "verify")
    assert stat.S_IMODE(anchor_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(anchor_file.parent.stat().st_mode) == 0o700
    assert [p.name for p in anchor_file.parent.iterdir()] == ["audit-anchor.json"]  # no temporary left


def test_an_unreadable_anchor_file_fails_verification(anchor_file, capsys):
    record(1)
    anchor_file.parent.mkdir(mode=0o700)
    anchor_file.write_text("seq=1\n")

    err = verify_fails(capsys)

    assert "is not an audit anchor file" in err


def test_a_report_from_before_entry_numbers_is_checked_by_its_head(capsys):
    record(3)
    found = ReportArtifact.objects.create(kind="soc2", period="2026Q1", format="pdf", generator_label="t",
                                          chain_head=AuditLogEntry.objects.get(seq=2).entry_hash)
    missing = ReportArtifact.objects.create(kind="soc2", period="2026Q2", format="pdf", generator_label="t",
                                            chain_head="ab" * 32)

    call_command("verify_audit_log")  # a warning, not a failure

    err = capsys.readouterr().err
    assert f"report artifact #{missing.pk} (soc2 2026Q2 pdf) is unanchored" in err
    assert f"report artifact #{found.pk} " not in err


def test_verify_with_write_anchor_records_the_head_in_the_database_and_the_file(anchor_file, capsys):
    record(2)

    call_command("verify_audit_log", "--write-anchor")

    anchor = AuditAnchor.objects.get()
    assert (anchor.seq, anchor.source) == (2, "verify")
    assert json.loads(anchor_file.read_text())["seq"] == 2
    assert "Anchor written: entry #2" in capsys.readouterr().out


def test_verify_does_not_write_an_anchor_unless_asked(anchor_file):
    record(2)

    call_command("verify_audit_log")

    assert not AuditAnchor.objects.exists() and not anchor_file.exists()


def test_the_daily_anchor_task_is_scheduled_and_writes_a_daily_anchor(settings, anchor_file):
    record(1)
    names = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]

    result = dispatch.task_named("compliance.tasks.write_audit_anchor_task").apply().get()

    assert "compliance.tasks.write_audit_anchor_task" in names
    assert result["seq"] == 1
    assert AuditAnchor.objects.get().source == "daily"


def test_anchor_rows_are_append_only():
    record(1)
    anchor = write_anchor(source=AuditAnchor.Source.DAILY)

    with pytest.raises(PermissionError, match="append-only"):
        AuditAnchor.objects.all().delete()
    with pytest.raises(PermissionError, match="append-only"):
        anchor.save()


def _datagrams(receiver: socket.socket) -> list[str]:
    received = []
    with contextlib.suppress(BlockingIOError):
        while True:
            received.append(receiver.recv(4096).decode(errors="replace"))
    return received


def test_the_anchor_checks_hold_on_sqlite(tmp_path):
    syslog = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    syslog.bind(("127.0.0.1", 0))
    syslog.setblocking(False)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'chain.sqlite3'}", "OPENCLAW_VAR_DIR": str(tmp_path / "var"),
           "MEDIA_ROOT": str(tmp_path / "media"), "DJANGO_SETTINGS_MODULE": "openclaw_web.settings",
           "AUDIT_ANCHOR_SYSLOG": f"127.0.0.1:{syslog.getsockname()[1]}"}  # fmt: skip
    for name in ("CELERY_BROKER_URL", "CACHE_URL", "AUDIT_KEY", "AUDIT_ANCHOR_FILE"):
        env.pop(name, None)

    with syslog:
        result = subprocess.run([sys.executable, "-m", "tests.compliance.sqlite_audit_chain"], cwd=REPO_ROOT, env=env,
                                capture_output=True, text=True, timeout=300)
        sent_to_syslog = _datagrams(syslog)

    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["vendor"] == "sqlite"
    assert report["healthy"] == {"problems": [], "exit": 0}
    assert report["tail_cut"]["exit"] == 1
    assert any("external anchor file" in p and "chain now ends at #3" in p for p in report["tail_cut"]["problems"])
    assert any(p.startswith("report artifact #") and "chain now ends at" in p for p in report["report_cut"]["problems"])
    assert any("the newest entry is not keyed" in p for p in report["plain_rehash"]["problems"])
    assert any("content does not match its hash" in p for p in report["wrong_key"]["problems"])
    # The real migration on an old database: its plain rows kept, one keyed entry appended after them.
    assert report["upgrade"]["schemes"] == ["sha256", "sha256", "hmac-sha256"]
    assert report["upgrade"]["problems"] == [] and report["upgrade"]["exit"] == 0
    # Each anchor written (healthy and tail_cut scenarios, both at entry #5) also went to syslog.
    assert sum("audit chain anchor: entry #5 hash" in line for line in sent_to_syslog) == 2, sent_to_syslog
