from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import REPO_ROOT


def test_every_main_page_renders_on_sqlite_the_demos_database(tmp_path) -> None:
    # The suite runs on PostgreSQL; `make demo` on SQLite, whose SQL differs (a UNION with a
    # LIMIT inside once broke the demo's vault pages and nothing here noticed).
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}", "OPENCLAW_VAR_DIR": str(tmp_path),
           "DEBUG": "0", "HTTPS": "0", "ALLOWED_HOSTS": "testserver", "DJANGO_SETTINGS_MODULE": "openclaw_web.settings"}  # fmt: skip
    for name in ("CELERY_BROKER_URL", "CACHE_URL"):
        env.pop(name, None)

    result = subprocess.run(
        [sys.executable, "-m", "tests.sqlite_pages"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )

    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["checked"] == 38 and report["failures"] == []
