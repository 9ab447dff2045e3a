"""gunicorn.conf.py, read by the real gunicorn (`--print-config`), gives the documented web server
(docs/operations.md, "Web server") and the WEB_* overrides, and refuses nonsense at start."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bench.bench_load import ServerConfig, parse_configs
from tests.conftest import REPO_ROOT

GUNICORN = Path(sys.executable).parent / "gunicorn"
WEB_VARIABLES = ("WEB_WORKERS", "WEB_THREADS", "WEB_KEEPALIVE", "WEB_TIMEOUT")


def _gunicorn_config(**overrides: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in WEB_VARIABLES} | overrides
    return subprocess.run(
        [str(GUNICORN), "--config", str(REPO_ROOT / "gunicorn.conf.py"), "--print-config", "openclaw_web.wsgi:application"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def _settings(**overrides: str) -> dict[str, str]:
    result = _gunicorn_config(**overrides)
    assert result.returncode == 0, result.stderr[-2000:]
    settings = {}
    for line in result.stdout.splitlines():
        name, sep, value = line.partition("=")
        if sep:
            settings[name.strip()] = value.strip()
    return settings


def test_defaults_are_the_measured_configuration():
    settings = _settings()

    # docs/operations.md "Web server": 2 sync workers x 1 thread per 2 cores, keep-alive 75 s
    # (longer than nginx's 60 s upstream idle timeout), 60 s worker timeout.
    assert settings["workers"] == "2"
    assert settings["threads"] == "1"
    assert settings["worker_class"] == "sync"
    assert settings["keepalive"] == "75"
    assert settings["timeout"] == "60"


def test_environment_overrides_workers_threads_keepalive_and_timeout():
    settings = _settings(WEB_WORKERS="6", WEB_THREADS="4", WEB_KEEPALIVE="0", WEB_TIMEOUT=" 120 ")

    assert settings["workers"] == "6"
    assert settings["threads"] == "4"
    assert settings["worker_class"] == "gthread"  # threads need the threaded worker
    assert settings["keepalive"] == "0"
    assert settings["timeout"] == "120"


def test_an_empty_variable_means_the_default_not_zero():
    settings = _settings(WEB_WORKERS="", WEB_THREADS="  ")

    assert (settings["workers"], settings["threads"]) == ("2", "1")


@pytest.mark.parametrize(
    ("name", "value"),
    [("WEB_WORKERS", "0"), ("WEB_WORKERS", "-2"), ("WEB_WORKERS", "two"), ("WEB_WORKERS", "4.5"),
     ("WEB_WORKERS", "65"), ("WEB_THREADS", "0"), ("WEB_THREADS", "1000"), ("WEB_KEEPALIVE", "-1"),
     ("WEB_TIMEOUT", "0")],
)  # fmt: skip
def test_nonsense_stops_gunicorn_naming_the_variable(name, value):
    result = _gunicorn_config(**{name: value})

    assert result.returncode != 0
    assert name in result.stderr


def test_compose_and_image_take_the_numbers_from_the_one_config_file():
    web = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())["services"]["web"]
    command = web["command"]

    assert command[command.index("--config") + 1] == "gunicorn.conf.py"
    # A --workers or --threads on the command line would silently win over the file.
    assert not {"--workers", "-w", "--threads", "--worker-class", "-k", "--keep-alive"} & set(command)


def test_bench_configurations_parse_and_reject_malformed_ones():
    assert parse_configs("2x1, 4X2,,3x4") == [ServerConfig(2, 1), ServerConfig(4, 2), ServerConfig(3, 4)]
    assert parse_configs("") == []
    for bad in ("4", "0x2", "4x0", "x2", "4x", "4*2", "-1x2"):
        with pytest.raises(ValueError, match="WORKERSxTHREADS"):
            parse_configs(bad)
