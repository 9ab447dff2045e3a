"""Screenshots of the main journeys at 1366 x 900 (laptop) and 390 x 844 (phone), for the README.

    .venv/bin/python scripts/screenshots.py                  # seed a demo of its own, then shoot
    .venv/bin/python scripts/screenshots.py --url http://127.0.0.1:8000   # a running `make demo`

Without --url it does what `make demo` does in a temporary directory (SQLite, the fake `op`, the
fake Events API, `manage.py demo`), adds what a quarter of use leaves behind (a submitted cleanup
plan, an open review of the production vaults), serves it on a free port and stops it at the end.
Pictures go to docs/screenshots/ as 256-colour PNGs no taller than MAX_HEIGHT, so the whole set
stays near 3 MB. Needs the test requirements (Playwright) and Debian's Chromium.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from PIL import Image

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
DEMO_PASSWORD = "openclaw-demo"  # noqa: S105 — vaults/management/commands/demo.py's printed password
SIZES = {"laptop": (1366, 900), "phone": (390, 844)}
# A screenshot shows the top of a long page: 2,000 px holds a page's summary and first table rows
# (the all-vault review page was 20,000 px tall) and keeps a picture under ~250 kB.
MAX_HEIGHT = 2000


@dataclass(frozen=True)
class Shot:
    name: str  # file stem: docs/screenshots/<name>-<size>.png
    login: str  # a demo login (vaults/management/commands/demo.py DEMO_LOGINS)
    path: str  # absolute path, or "@finding", "@vault"... resolved from the page links below
    caption: str


# The quarter the demo's history is in (the preview form's default, the last closed quarter, predates it).
THIS_QUARTER = f"{date.today().year}Q{(date.today().month + 2) // 3}"
JOURNEYS = [
    Shot("01-dashboard", "admin", "/", "Dashboard: health score, trend, what needs attention"),
    Shot("02-findings", "lead", "/findings/", "Findings, filtered and sorted, with bulk decisions"),
    Shot("03-finding", "lead", "@finding", "One finding: why it was raised and what to do"),
    Shot("04-vault", "admin", "@vault", "A vault: score, items, who has access"),
    Shot("05-search", "viewer", "/search/?q=strpe+prod", "One search across items, vaults, people, groups"),
    Shot("06-cleanup-plan", "approver", "@plan", "A cleanup plan waiting for the approver"),
    Shot("07-review", "compliance", "@review", "An access review of the production vaults"),
    Shot("08-report", "compliance", f"/reports/preview/?kind=soc2&period={THIS_QUARTER}", "SOC 2 report preview"),
    Shot("09-audit-log", "auditor", "/audit/", "The hash-chained audit log"),
    Shot("10-usage", "admin", "/usage/", "Who used which items"),
]
# How to find the object a "@name" path stands for: the first link of this CSS selector on that page.
FIRST_LINK = {
    "@finding": ("/findings/", "td.title-cell a[href^='/findings/']"),
    "@vault": ("/vaults/", "td.col-title a[href^='/vaults/']"),
    "@plan": ("/cleanup/", "td.title-cell a[href^='/cleanup/']"),
    "@review": ("/reviews/", "td.title-cell a[href^='/reviews/']"),
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):  # noqa: S310 — a loopback URL we started
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _seed_extras() -> None:
    """What a quarter of use leaves behind: a submitted plan and an open review (demo has neither)."""
    import django

    sys.path.insert(0, str(REPO))  # run as a script, its own folder is on the path, not the product's
    django.setup()
    from django.contrib.auth.models import User
    from django.utils import timezone

    from compliance.reviews.periods import period_containing
    from compliance.reviews.review import open_review
    from vaults.cleanup.plans import create_plan_from_findings, submit_plan
    from vaults.findings.models import Finding
    from vaults.models import Account, Vault

    account = Account.objects.get()
    lead = User.objects.get(username="lead")
    # Renames of unclear titles in the vaults the lead owns: a plan a team lead would propose first.
    unclear = Finding.objects.filter(account=account, kind=Finding.Kind.UNCLEAR_NAME, status=Finding.Status.OPEN,
                                     vault__owner=lead).order_by("pk")[:6]  # fmt: skip
    plan, _ = create_plan_from_findings(findings=list(unclear), proposed_by=lead)
    submit_plan(plan=plan, user=lead)
    open_review(account=account, period=period_containing(timezone.now()), opened_by=User.objects.get(username="compliance"),
                classifications=[Vault.Classification.PRODUCTION], require_second_approver=True)  # fmt: skip


@contextmanager
def demo_server() -> Iterator[str]:
    """A seeded demo like `make demo` (scripts/demo.sh), in a temporary directory; yields its URL."""
    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="openclaw-shots-") as var:
        account = Path(var) / "fake-account.json"
        events_port, port = _free_port(), _free_port()
        env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}  # SQLite, as the demo
        env.update(OPENCLAW_VAR_DIR=var, DEBUG="0", HTTPS="0", OP_BIN=str(REPO / "bin" / "fake-op"),
                   FAKE_OP_ACCOUNT=str(account), FAKE_OP_CALL_LOG=str(Path(var) / "op-calls.jsonl"),
                   EVENTS_API_URL=f"http://127.0.0.1:{events_port}", DJANGO_SETTINGS_MODULE="openclaw_web.settings")  # fmt: skip
        manage = [py, str(REPO / "manage.py")]
        subprocess.run([*manage, "demo_account", "--out", str(account)], cwd=REPO, env=env, check=True)
        data = json.loads(account.read_text())
        env.update(OP_SERVICE_ACCOUNT_TOKEN=data["tokens"][0]["token"], OP_EVENTS_TOKEN=data["events_token"])
        processes = [subprocess.Popen([py, "-m", "vaults.fake_op.events_server", "--account", str(account),
                                       "--port", str(events_port)], cwd=REPO, env=env)]  # fmt: skip
        try:
            for command in (["migrate", "--noinput", "-v0"], ["collectstatic", "--noinput", "-v0"],
                            ["demo", "--events-url", env["EVENTS_API_URL"]]):  # fmt: skip
                subprocess.run([*manage, *command], cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)
            os.environ.update(env)
            _seed_extras()
            processes.append(subprocess.Popen([*manage, "runserver", f"127.0.0.1:{port}", "--noreload"], cwd=REPO,
                                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))  # fmt: skip
            url = f"http://127.0.0.1:{port}"
            _wait_for(f"{url}/accounts/login/")
            yield url
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=20)


def _save(png: bytes, path: Path) -> int:
    """Keep the top MAX_HEIGHT px, reduce to 256 colours (a UI has few), write an optimised PNG."""
    tmp = path.with_suffix(".raw.png")
    tmp.write_bytes(png)
    with Image.open(tmp) as image:
        top = image.crop((0, 0, image.width, min(image.height, MAX_HEIGHT)))
        top.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    tmp.unlink()
    return path.stat().st_size


def _resolve(page: Any, url: str, path: str) -> str:
    """The path a "@name" stands for: the first link of FIRST_LINK's selector on its listing page."""
    if path not in FIRST_LINK:
        return path
    listing, selector = FIRST_LINK[path]
    page.goto(url + listing)
    return page.locator(selector).first.get_attribute("href") or listing


def shoot(url: str, out: Path) -> list[tuple[Shot, str, Path, int]]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written: list[tuple[Shot, str, Path, int]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            anonymous = browser.new_context()
            page = anonymous.new_page()
            for size, (width, height) in SIZES.items():
                page.set_viewport_size({"width": width, "height": height})
                page.goto(f"{url}/accounts/login/")
                path = out / f"00-sign-in-{size}.png"
                written.append((Shot("00-sign-in", "", "/accounts/login/", "Sign in"), size, path,
                                _save(page.screenshot(full_page=True), path)))  # fmt: skip
            anonymous.close()
            for login in dict.fromkeys(shot.login for shot in JOURNEYS):
                context = browser.new_context(viewport={"width": SIZES["laptop"][0], "height": SIZES["laptop"][1]})
                page = context.new_page()
                page.set_default_timeout(60_000)
                page.goto(f"{url}/accounts/login/")
                page.fill("input[name=username]", login)
                page.fill("input[name=password]", DEMO_PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(f"{url}/")
                for shot in (s for s in JOURNEYS if s.login == login):
                    target = _resolve(page, url, shot.path)
                    for size, (width, height) in SIZES.items():
                        page.set_viewport_size({"width": width, "height": height})
                        page.goto(url + target, wait_until="load")
                        path = out / f"{shot.name}-{size}.png"
                        written.append((shot, size, path, _save(page.screenshot(full_page=True), path)))
                context.close()
        finally:
            browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running demo (make demo); without it one is seeded and served")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    options = parser.parse_args()
    if options.url:
        written = shoot(options.url.rstrip("/"), options.out)
    else:
        with demo_server() as url:
            written = shoot(url, options.out)
    for _, _, path, size in written:
        print(f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path}  {size / 1024:.0f} kB")
    print(f"{len(written)} screenshots, {sum(size for *_, size in written) / 1024 / 1024:.1f} MB")


if __name__ == "__main__":
    main()
