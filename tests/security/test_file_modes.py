"""Files under var/ are the owner's alone (issue #14, item 7): var/ is 0700, the generated keys
and the SQLite database 0600, each *created* so (never written and tightened afterwards), and
files an earlier version left looser are tightened at start-up with a log line.

Each test starts the settings in a fresh interpreter with the common umask 0o022, under which
anything created with a default mode would come out readable by everyone (0644 / 0755)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import REPO_ROOT

# Runs in the child: records how every file under var/ is created, then starts Django and
# writes to the SQLite database.
CHILD = r"""
import json, os, stat, sys
os.umask(0o022)
VAR = os.environ["OPENCLAW_VAR_DIR"]
record = {"os_open": [], "default_mode_creations": [], "published": []}

_open, _link, _replace = os.open, os.link, os.replace
def spy_open(path, flags, mode=0o777, *args, **kwargs):
    if str(path).startswith(VAR) and flags & os.O_CREAT:
        record["os_open"].append([str(path), mode])
    return _open(path, flags, mode, *args, **kwargs)
def spy_publish(real):
    def publish(src, dst, *args, **kwargs):
        if str(dst).startswith(VAR):
            record["published"].append([str(dst), stat.S_IMODE(os.stat(src).st_mode)])
        return real(src, dst, *args, **kwargs)
    return publish
os.open, os.link, os.replace = spy_open, spy_publish(_link), spy_publish(_replace)

def hook(event, args):
    # open() (Path.write_text included) creates files with the umask's mode: never under var/.
    if event == "open" and isinstance(args[1], str) and str(args[0]).startswith(VAR) and set(args[1]) & set("wax+"):
        record["default_mode_creations"].append(str(args[0]))
sys.addaudithook(hook)

os.environ["DJANGO_SETTINGS_MODULE"] = "openclaw_web.settings"
import django
django.setup()
from django.conf import settings
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE IF NOT EXISTS probe (x integer)")
    cursor.execute("INSERT INTO probe VALUES (1)")
connection.close()
record["database"] = str(settings.DATABASES["default"]["NAME"])
print(json.dumps(record))
"""

SCRUBBED = ("DATABASE_URL", "SECRET_KEY", "FINGERPRINT_KEY", "AUDIT_KEY", "AUDIT_ANCHOR_FILE", "CACHE_URL", "CELERY_BROKER_URL")


def _start(var: Path) -> tuple[dict[str, Any], str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env["OPENCLAW_VAR_DIR"] = str(var)
    done = subprocess.run([sys.executable, "-c", CHILD], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_fresh_var_folder_is_0700_with_keys_and_database_0600(tmp_path):
    var = tmp_path / "var"

    record, _ = _start(var)

    assert _mode(var) == 0o700
    assert _mode(var / "secret_key") == 0o600
    assert _mode(var / "fingerprint_key") == 0o600
    assert _mode(var / "audit_key") == 0o600
    assert record["database"] == str(var / "openclaw.sqlite3")
    assert _mode(var / "openclaw.sqlite3") == 0o600
    assert sorted(p.name for p in var.iterdir()) == ["audit_key", "fingerprint_key", "openclaw.sqlite3", "secret_key"]  # no temp left


def test_no_file_under_var_is_ever_created_with_a_looser_mode(tmp_path):
    var = tmp_path / "var"

    record, _ = _start(var)

    assert record["default_mode_creations"] == []
    created = {Path(path).name: mode for path, mode in record["os_open"]}
    assert "openclaw.sqlite3" in created
    assert sum(name.startswith((".secret_key.", ".fingerprint_key.", ".audit_key.")) for name in created) == 3
    assert all(mode & 0o077 == 0 for mode in created.values()), created
    # Each key became visible under its name only once it was 0600.
    assert sorted(Path(dst).name for dst, _ in record["published"]) == ["audit_key", "fingerprint_key", "secret_key"]
    assert all(mode == 0o600 for _, mode in record["published"])


def test_files_left_looser_by_an_earlier_version_are_tightened_at_start_up_and_kept(tmp_path):
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    var.chmod(0o755)
    (var / "secret_key").write_text("an-existing-key-that-must-survive")
    (var / "secret_key").chmod(0o644)
    (var / "openclaw.sqlite3").touch()
    (var / "openclaw.sqlite3").chmod(0o644)

    _, stderr = _start(var)

    assert (_mode(var), _mode(var / "secret_key"), _mode(var / "openclaw.sqlite3")) == (0o700, 0o600, 0o600)
    assert (var / "secret_key").read_text() == "an-existing-key-that-must-survive"
    assert f"{var / 'secret_key'} was accessible to other users (mode 644); tightened to 600" in stderr
    assert "openclaw.sqlite3 was accessible to other users" in stderr


def test_a_folder_and_files_already_private_are_left_alone_without_a_word(tmp_path):
    var = tmp_path / "var"
    _start(var)

    _, stderr = _start(var)

    assert "tightened" not in stderr
    assert _mode(var / "secret_key") == 0o600
