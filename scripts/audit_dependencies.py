"""Audit the pinned base requirements for known vulnerabilities with pip-audit (issue #14 item 9).

Run through scripts/audit-dependencies.sh. Steps:
1. Read the allow-list (requirements/audit-allowlist.txt): one `ID | package | reason | review-by
   YYYY-MM-DD` per line. A malformed line or an entry past its review date fails the audit: an
   exception nobody re-reads is a silent one.
2. Probe the vulnerability service with a pin known to be vulnerable (Django 3.2.0). A service that
   is unreachable, or answers "nothing known" for it, cannot vouch for anything: pip-audit alone
   would then report "No known vulnerabilities found" (a mirror without the vulnerability data
   answers 404 and pip-audit merely *skips* the package). Without a working service the audit
   says so and fails only when AUDIT_STRICT=1 (CI with network), else warns and exits 0.
3. Audit requirements/base.lock (every package the base install pulls, hash-pinned) with
   `--strict --require-hashes --no-deps`, ignoring the allow-listed IDs. Any finding fails.

Environment: AUDIT_SERVICE (pypi | osv; default: pypi, then osv), AUDIT_OSV_URL (an OSV-compatible
query URL), AUDIT_STRICT, AUDIT_REQUIREMENTS, AUDIT_ALLOWLIST, AUDIT_TODAY (YYYY-MM-DD, for tests),
PIP_AUDIT (the pip-audit executable).
Exit codes: 0 clean (or service unavailable, not strict); 1 vulnerabilities; 2 allow-list problem;
3 no vulnerability service while strict.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Django 3.2.0 has published advisories in every service (PYSEC/GHSA): a service that reports none
# for it has no data, whatever it answers for our pins.
KNOWN_VULNERABLE_PIN = "django==3.2"
EXIT_VULNERABLE, EXIT_ALLOWLIST, EXIT_NO_SERVICE = 1, 2, 3
TIMEOUT_SECONDS = 600


@dataclass(frozen=True)
class AllowedVulnerability:
    vulnerability_id: str
    package: str
    reason: str
    review_by: datetime.date


class AllowListError(Exception):
    pass


def read_allowlist(path: Path, *, today: datetime.date) -> list[AllowedVulnerability]:
    entries: list[AllowedVulnerability] = []
    if not path.exists():
        return entries
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = [f.strip() for f in line.split("|")]
        if len(fields) != 4 or not all(fields):
            raise AllowListError(f"{path.name}:{number}: expected `ID | package | reason | review-by YYYY-MM-DD`")
        try:
            review_by = datetime.date.fromisoformat(fields[3])
        except ValueError as error:
            raise AllowListError(f"{path.name}:{number}: review date {fields[3]!r} is not YYYY-MM-DD") from error
        if review_by < today:
            raise AllowListError(
                f"{path.name}:{number}: the exception for {fields[0]} ({fields[1]}) was due for review on "
                f"{review_by}: upgrade the package, or re-justify the entry with a new date"
            )
        entries.append(AllowedVulnerability(fields[0], fields[1], fields[2], review_by))
    return entries


def _pip_audit(args: list[str], service: str) -> subprocess.CompletedProcess[str]:
    command = [os.environ.get("PIP_AUDIT", str(REPO / ".venv" / "bin" / "pip-audit")), "-s", service]
    if service == "osv" and os.environ.get("AUDIT_OSV_URL"):
        command += ["--osv-url", os.environ["AUDIT_OSV_URL"]]
    command += ["--progress-spinner", "off", "--format", "json", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)


def service_answers(service: str) -> tuple[bool, str]:
    """(the service reports the known-vulnerable pin, why not)."""
    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder) / "probe.txt"
        probe.write_text(KNOWN_VULNERABLE_PIN + "\n")
        result = _pip_audit(["-r", str(probe), "--no-deps", "--disable-pip", "--timeout", "20"], service)
    try:
        report = json.loads(result.stdout or "{}")
    except json.JSONDecodeError:
        report = {}
    found = [v for d in report.get("dependencies", []) for v in d.get("vulns", [])]
    if found:
        return True, ""
    skipped = [d["skip_reason"] for d in report.get("dependencies", []) if d.get("skip_reason")]
    errors = [line for line in result.stderr.strip().splitlines() if "Error" in line]
    reason = (skipped or errors or [f"reports nothing for {KNOWN_VULNERABLE_PIN}, known to be vulnerable"])[-1]
    return False, f"{service}: {reason[:300]}"


def main() -> int:
    today = datetime.date.fromisoformat(os.environ.get("AUDIT_TODAY") or datetime.date.today().isoformat())
    strict = os.environ.get("AUDIT_STRICT", "0") == "1"
    requirements = Path(os.environ.get("AUDIT_REQUIREMENTS", REPO / "requirements" / "base.lock"))
    allowlist_path = Path(os.environ.get("AUDIT_ALLOWLIST", REPO / "requirements" / "audit-allowlist.txt"))
    try:
        allowed = read_allowlist(allowlist_path, today=today)
    except AllowListError as error:
        print(f"audit-dependencies: allow-list problem: {error}", file=sys.stderr)
        return EXIT_ALLOWLIST

    services = [os.environ["AUDIT_SERVICE"]] if os.environ.get("AUDIT_SERVICE") else ["pypi", "osv"]
    problems = []
    service = ""
    for candidate in services:
        works, why = service_answers(candidate)
        if works:
            service = candidate
            break
        problems.append(why)
    if not service:
        message = (
            "audit-dependencies: NO VULNERABILITY SERVICE ANSWERED, the dependencies were NOT audited ("
            + "; ".join(problems)
            + ")."
        )
        if strict:
            print(message + " Failing because AUDIT_STRICT=1.", file=sys.stderr)
            return EXIT_NO_SERVICE
        print("WARNING: " + message + " Set AUDIT_STRICT=1 where the network is expected to make this fatal.")
        return 0

    ignores = [arg for entry in allowed for arg in ("--ignore-vuln", entry.vulnerability_id)]
    result = _pip_audit(
        ["-r", str(requirements), "--require-hashes", "--no-deps", "--disable-pip", "--strict", *ignores], service
    )
    try:
        report = json.loads(result.stdout or "{}")
    except json.JSONDecodeError:
        report = {}
    found = [(d["name"], d.get("version", "?"), v) for d in report.get("dependencies", []) for v in d.get("vulns", [])]
    for name, version, vuln in found:
        fixes = ", ".join(vuln.get("fix_versions", [])) or "none yet"
        print(f"VULNERABLE {name}=={version}: {vuln['id']} (fixed in: {fixes}) {vuln.get('description', '')[:200]}")
    audited = len(report.get("dependencies", []))
    if result.returncode != 0 and not found:
        print(f"audit-dependencies: pip-audit failed: {result.stderr.strip()[-1000:]}", file=sys.stderr)
        return EXIT_VULNERABLE
    if found:
        print(
            f"audit-dependencies: {len(found)} known vulnerabilit{'y' if len(found) == 1 else 'ies'} in "
            f"{audited} pinned packages ({service}). Upgrade, or allow-list with a reason and review date."
        )
        return EXIT_VULNERABLE
    print(f"audit-dependencies: {audited} pinned packages, no known vulnerabilities ({service}); "
          f"{len(allowed)} allow-listed.")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
