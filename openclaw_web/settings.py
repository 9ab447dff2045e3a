"""Settings, read entirely from the environment.

With nothing set, the app runs as the embedded demo: SQLite under var/, Celery tasks executed
in-process, keys generated once per checkout under var/. Production sets DATABASE_URL,
CELERY_BROKER_URL, SECRET_KEY, FINGERPRINT_KEY, ALLOWED_HOSTS and DEBUG=0, and then passes
`manage.py check --deploy` with no warnings.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

from openclaw_web.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("OPENCLAW_VAR_DIR", str(BASE_DIR / "var")))


def _local_key(name: str) -> str:
    """A random key kept in var/ so a local checkout keeps its sessions and fingerprints."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = env_str("SECRET_KEY") or _local_key("secret_key")
# Keys the HMAC that fingerprints secret values. It is never stored in the database: a database
# dump alone cannot be used to test guesses against fingerprints.
FINGERPRINT_KEY = env_str("FINGERPRINT_KEY") or _local_key("fingerprint_key")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "openclaw_web",
    "compliance",
    "vaults",
    "vaults.findings",
    "vaults.cleanup",
    "compliance.reviews",
    "compliance.reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "openclaw_web.security.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "openclaw_web.urls"
WSGI_APPLICATION = "openclaw_web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "openclaw_web.roles.roles_context",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'openclaw.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's JIT compiled the findings engine's and the pages' larger queries at 100k items
    # for 120-300 ms per execution, longer than the queries then ran (EXPLAIN ANALYZE, bench/):
    # every query here is planned afresh, so the compilation is never amortised.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Rendered page fragments (openclaw_web/fragment_cache.py): Redis shared by every web process in
# production, else each process's own memory. Metadata only, like the pages.
CACHE_URL = env_str("CACHE_URL")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "openclaw"}
}

AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out username before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_float("AXES_COOLOFF_HOURS", 0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
OTP_TOTP_ISSUER = "OpenClaw"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "artifacts")))

# --- transport security -------------------------------------------------------------------
# HTTPS defaults to on whenever DEBUG is off; the local demo on http://127.0.0.1 turns it off,
# and so does the test run (pytest's client and live server speak plain HTTP on loopback).
RUNNING_TESTS = "pytest" in sys.modules
HTTPS = env_bool("HTTPS", default=not DEBUG and not RUNNING_TESTS)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY") else None
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=300)
X_FRAME_OPTIONS = "DENY"

# No inline script and nothing from another origin: htmx is served from our own static files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- 1Password ------------------------------------------------------------------------------
OP_BIN = env_str("OP_BIN", "op")
OP_TIMEOUT_SECONDS = env_float("OP_TIMEOUT_SECONDS", 60.0)
OP_CONCURRENCY = env_int("OP_CONCURRENCY", 4, minimum=1)
OP_MAX_RETRIES = env_int("OP_MAX_RETRIES", 4, minimum=0)
EVENTS_API_URL = env_str("EVENTS_API_URL")

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or (CELERY_BROKER_URL or None)
# Without a broker, tasks run in-process so the demo needs nothing but Python.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_DEFAULT_QUEUE = "default"
# PDFs render on their own queue so a slow WeasyPrint job never delays a sync.
CELERY_TASK_ROUTES = {"compliance.reports.tasks.render_pdf_task": {"queue": "pdf"}}
# An hour-long rate-limit wait is recorded on the SyncRun and resumed by beat, never parked in a
# countdown, so the visibility timeout only needs to outlast the longest real task.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3 * 3600)}
CELERY_BEAT_SCHEDULE = {
    "sync-all-accounts-hourly": {
        "task": "vaults.tasks.sync_all_accounts_task",
        "schedule": crontab(minute=env_int("SYNC_MINUTE", 7)),
    },
    "resume-waiting-syncs": {
        "task": "vaults.tasks.resume_waiting_syncs_task",
        "schedule": 60.0,
    },
    "run-report-schedules-daily": {
        "task": "compliance.reports.tasks.run_report_schedules_task",
        "schedule": crontab(hour=5, minute=17),
    },
}

# --- e-mail ----------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend" if env_str("EMAIL_HOST") else "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "openclaw@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
}
