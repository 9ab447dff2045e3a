import yaml

from tests.conftest import REPO_ROOT


def _compose():
    return yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())


def test_compose_defines_web_worker_beat_postgres_and_redis_with_healthchecks():
    services = _compose()["services"]

    assert {"web", "worker", "beat", "postgres", "redis"} <= set(services)
    for name in ("web", "worker", "beat", "postgres", "redis"):
        assert "healthcheck" in services[name], f"{name} has no healthcheck"


def test_compose_runs_gunicorn_celery_worker_and_beat_on_the_same_environment():
    services = _compose()["services"]

    assert services["web"]["command"][0] == "gunicorn"
    assert services["web"]["command"][1] == "openclaw_web.wsgi:application"
    assert services["worker"]["command"][:4] == ["celery", "-A", "openclaw_web", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "openclaw_web", "beat"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["CELERY_BROKER_URL"].startswith("redis://")


def test_compose_keeps_data_in_named_volumes():
    compose = _compose()

    assert {"pgdata", "redisdata", "artifacts"} <= set(compose["volumes"])


def test_gunicorn_is_published_on_loopback_only_behind_the_trusted_proxy():
    web = _compose()["services"]["web"]

    # One trusted proxy names the client in X-Forwarded-For: a port open to the world would let
    # anyone reach gunicorn directly and forge that header (lockouts, audit addresses).
    assert web["environment"]["TRUSTED_PROXY_COUNT"].endswith("1}")
    assert all(str(port).startswith("127.0.0.1:") for port in web["ports"])


def test_the_image_never_receives_local_keys_databases_or_venv():
    ignored = {line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()}

    assert {"var/", ".venv/", ".env"} <= ignored


def test_only_the_one_shot_migrate_service_connects_as_the_tables_owner():
    services = _compose()["services"]
    migrate = services["migrate"]

    # The owner runs migrations and then grants the app's role; everything else is that role,
    # which may only SELECT and INSERT the audit log (docs/security.md, 4).
    assert migrate["environment"]["DATABASE_URL"].startswith("postgres://openclaw:")
    assert "migrate --noinput && python manage.py grant_app_role openclaw_app" in migrate["command"][-1]
    assert migrate["restart"] == "no"
    for name in ("web", "worker", "pdf-worker", "beat"):
        service = services[name]
        assert service["environment"]["DATABASE_URL"].startswith("postgres://openclaw_app:"), name
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
        assert service["environment"]["AUDIT_ANCHOR_FILE"].startswith("/data/anchors/"), name
        assert "anchors:/data/anchors" in service["volumes"], name


def test_the_owner_password_reaches_only_migrate_and_postgres():
    """A web process that can read its own environment must not find the owner's password there:
    with it, the app role's SELECT/INSERT-only audit table would protect nothing."""
    compose = _compose()
    for name, service in compose["services"].items():
        environment = service.get("environment", {})
        files = service.get("env_file", [])
        files = [files] if isinstance(files, str) else files
        assert ".env" not in files, f"{name} receives compose's .env (it holds POSTGRES_PASSWORD)"
        holds_owner_password = "POSTGRES_PASSWORD" in environment or any(
            "${POSTGRES_PASSWORD" in str(value) for value in environment.values())
        assert holds_owner_password == (name in {"migrate", "postgres"}), name
    # Decoy: the app role's password is what the app containers use.
    assert "${APP_DB_PASSWORD" in compose["services"]["web"]["environment"]["DATABASE_URL"]
    ignored = {line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()}
    assert "app.env" in ignored
