"""Issue #14 item 9: the pinned requirements are hash-locked and audited for known vulnerabilities.

The audit runs the real pip-audit (through scripts/audit-dependencies.sh) against a local
OSV-compatible server that this test controls, so a "vulnerable" pin, an allow-listed one, an
expired exception and a dead or empty service are all played out without the internet.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "audit-dependencies.sh"
LOCK = REPO / "requirements" / "base.lock"
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s;\\]+)", re.MULTILINE)
FAKE_ADVISORY = "GHSA-oc14-test-0001"


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(path: Path) -> dict[str, str]:
    return {_canonical(name): version for name, version in PIN.findall(path.read_text())}


class FakeOsv:
    """Answers OSV `/v1/query` POSTs from a {(package, version): [advisory id]} table."""

    def __init__(self) -> None:
        self.vulnerable: dict[tuple[str, str], list[str]] = {("django", "3.2"): ["PYSEC-probe"]}
        self.queries: list[dict[str, Any]] = []
        osv = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                osv.queries.append(query)
                key = (query["package"]["name"], query["version"])
                vulns = [
                    {
                        "id": advisory,
                        "summary": "test advisory",
                        "affected": [
                            {
                                "package": {"name": key[0], "ecosystem": "PyPI"},
                                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "99"}]}],
                            }
                        ],
                    }
                    for advisory in osv.vulnerable.get(key, [])
                ]
                body = json.dumps({"vulns": vulns} if vulns else {}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/query"


@pytest.fixture
def osv() -> Iterator[FakeOsv]:
    fake = FakeOsv()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()


def _audit(tmp_path: Path, *, osv_url: str, allowlist: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    allowlist_file = tmp_path / "allowlist.txt"
    allowlist_file.write_text(allowlist)
    environment = {
        **os.environ,
        "PYTHON": sys.executable,
        "PIP_AUDIT": str(Path(sys.executable).parent / "pip-audit"),
        "AUDIT_SERVICE": "osv",
        "AUDIT_OSV_URL": osv_url,
        "AUDIT_ALLOWLIST": str(allowlist_file),
        "AUDIT_TODAY": "2026-11-27",
        **env,
    }
    return subprocess.run(
        [str(SCRIPT)], capture_output=True, text=True, env=environment, timeout=300, check=False, cwd=REPO
    )


# --- the hash lock -------------------------------------------------------------------------------


def test_every_base_requirement_is_locked_at_the_same_version_with_hashes() -> None:
    base, lock = _pins(REPO / "requirements" / "base.txt"), _pins(LOCK)

    assert {name: lock.get(name) for name in base} == base
    entries = re.split(r"\n(?=[A-Za-z])", LOCK.read_text().split("\n\n", 1)[-1])
    unhashed = [e.split("==")[0] for e in entries if PIN.match(e) and "--hash=sha256:" not in e]
    assert unhashed == []


def test_the_lock_agrees_with_the_constraints() -> None:
    constraints, lock = _pins(REPO / "requirements" / "constraints.txt"), _pins(LOCK)

    disagreeing = {
        name: (version, constraints.get(name)) for name, version in lock.items() if constraints.get(name) != version
    }
    assert disagreeing == {}


# --- the audit -----------------------------------------------------------------------------------


def test_a_known_vulnerability_in_a_pinned_package_fails_the_audit(tmp_path: Path, osv: FakeOsv) -> None:
    osv.vulnerable[("sqlparse", _pins(LOCK)["sqlparse"])] = [FAKE_ADVISORY]

    result = _audit(tmp_path, osv_url=osv.url)

    assert result.returncode == 1, result.stderr
    assert f"VULNERABLE sqlparse=={_pins(LOCK)['sqlparse']}: {FAKE_ADVISORY}" in result.stdout
    audited = {q["package"]["name"] for q in osv.queries}
    assert set(_pins(LOCK)) <= audited  # every locked package was asked about, not only the one


def test_an_allow_listed_vulnerability_passes_with_its_reason_on_record(tmp_path: Path, osv: FakeOsv) -> None:
    osv.vulnerable[("sqlparse", _pins(LOCK)["sqlparse"])] = [FAKE_ADVISORY]
    entry = f"{FAKE_ADVISORY} | sqlparse | only formats our own SQL, never user input | 2027-02-01\n"

    result = _audit(tmp_path, osv_url=osv.url, allowlist=entry)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no known vulnerabilities" in result.stdout and "1 allow-listed" in result.stdout


def test_an_allow_list_entry_past_its_review_date_fails(tmp_path: Path, osv: FakeOsv) -> None:
    entry = f"{FAKE_ADVISORY} | sqlparse | was fine last quarter | 2026-11-26\n"

    result = _audit(tmp_path, osv_url=osv.url, allowlist=entry)

    assert result.returncode == 2
    assert "due for review on 2026-11-26" in result.stderr


def test_a_malformed_allow_list_line_fails(tmp_path: Path, osv: FakeOsv) -> None:
    result = _audit(tmp_path, osv_url=osv.url, allowlist=f"{FAKE_ADVISORY} sqlparse no date\n")

    assert result.returncode == 2
    assert "expected `ID | package | reason | review-by YYYY-MM-DD`" in result.stderr


def test_without_a_vulnerability_service_strict_mode_fails_and_says_so(tmp_path: Path) -> None:
    dead = "http://127.0.0.1:9/v1/query"  # nothing listens on the discard port

    strict = _audit(tmp_path, osv_url=dead, AUDIT_STRICT="1")
    lenient = _audit(tmp_path, osv_url=dead)

    assert strict.returncode == 3
    assert "NOT audited" in strict.stderr
    assert lenient.returncode == 0
    assert lenient.stdout.startswith("WARNING:") and "NOT audited" in lenient.stdout


def test_a_service_without_vulnerability_data_is_not_taken_for_a_clean_bill(tmp_path: Path, osv: FakeOsv) -> None:
    # A mirror that knows no advisory at all answers "nothing found" for every pin: pip-audit alone
    # would report a clean audit. The probe pin (known vulnerable) exposes it.
    osv.vulnerable.clear()

    result = _audit(tmp_path, osv_url=osv.url, AUDIT_STRICT="1")

    assert result.returncode == 3
    assert "reports nothing for django==3.2" in result.stderr
