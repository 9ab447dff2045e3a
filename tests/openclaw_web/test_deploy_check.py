import os
import subprocess
import sys

from tests.conftest import REPO_ROOT


def test_production_settings_pass_check_deploy_without_warnings(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "openclaw_web.settings",
        "DEBUG": "0",
        "SECRET_KEY": "k" * 20 + "Zq8#pL2@vX5!mN7$rT1%yW4^uB6&" + "j" * 20,
        "FINGERPRINT_KEY": "f" * 64,
        "ALLOWED_HOSTS": "openclaw.example.com",
        "SITE_URL": "https://openclaw.example.com",
        "DATABASE_URL": "postgres://openclaw@127.0.0.1:5432/openclaw",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "OPENCLAW_VAR_DIR": str(tmp_path),
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_debug_settings_are_caught_by_check_deploy(tmp_path):
    env = {"PATH": os.environ["PATH"], "DEBUG": "1", "OPENCLAW_VAR_DIR": str(tmp_path)}

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )

    assert result.returncode != 0
    assert "DEBUG" in result.stdout + result.stderr
