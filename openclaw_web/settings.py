"""Settings, read entirely from the environment.

With nothing set, the app runs as the embedded demo: SQLite under var/, Celery tasks executed
in-process, keys generated once per checkout under var/. Production sets DATABASE_URL,
CELERY_BROKER_URL, SECRET_KEY, FINGERPRINT_KEY, ALLOWED_HOSTS and DEBUG=0, and then passes
`manage.py check --deploy` with no warnings.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import dj_database_url
from celery.schedules import crontab

from openclaw_web.env import env_bool, env_float, env_int, env_list, env_str
from openclaw_web.local_files import ensure_private_sqlite_file, local_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("OPENCLAW_VAR_DIR", str(BASE_DIR / "var")))


def _local_key(name: str) -> str:
    """A random key kept in var/ (0700; the key file created 0600) so a local checkout keeps its
    sessions and fingerprints."""
    return local_key(VAR_DIR, name)


DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = env_str("SECRET_KEY") or _local_key("secret_key")
# Keys the HMAC that fingerprints secret values. It is never stored in the database: a database
# dump alone cannot be used to test guesses against fingerprints.
FINGERPRINT_KEY = env_str("FINGERPRINT_KEY") or _local_key("fingerprint_key")
# Keys the HMAC of every audit-log entry (compliance/audit.py). A key of its own, never in the
# database: whoever can write to the database still cannot recompute a chain that verifies.
AUDIT_KEY = env_str("AUDIT_KEY") or _local_key("audit_key")
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
    "vaults.offboarding",
    "vaults.access_expiry",
    "vaults.breakglass",
    "compliance.alerts",
    "compliance.tickets",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Names the signed-in person as the actor of audit-logged changes to people and roles.
    "openclaw_web.access_audit.AccessAuditMiddleware",
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
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and str(DATABASES["default"]["NAME"]) not in ("", ":memory:"):
    # Created 0600 before Django opens it: SQLite would create it readable by everyone (0644).
    ensure_private_sqlite_file(Path(DATABASES["default"]["NAME"]))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo's background tasks write while requests read (openclaw_web/background.py). WAL lets
    # readers go on during a write; IMMEDIATE takes the write lock at BEGIN, where the timeout
    # waits for it (a lock upgrade mid-transaction fails at once with "database is locked").
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            "transaction_mode": "IMMEDIATE",
            "timeout": env_float("SQLITE_TIMEOUT_SECONDS", 20.0),
        }
    )
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
    "default": {"BACKEND": "openclaw_web.cache_backend.ReusedClientRedisCache", "LOCATION": CACHE_URL}
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "openclaw"}
}
# Sessions stay in the database alone (Django's default). Reading them from Redis first
# (cached_db) saved a query a page, but Django 5.2's cached_db writes and deletes its cache copy
# unguarded: with Redis down every signed-in page failed and a sign-out failed with the session left
# alive (review of 2026-11-28). A page must not depend on the cache.
# Count hits and renders of the fragments in the cache (bench/bench_load.py's hit rate).
FRAGMENT_CACHE_STATS = env_bool("FRAGMENT_CACHE_STATS", default=False)

AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out username before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, reading the person's roles in the same query (one round trip a page).
    # Sessions signed in under the plain ModelBackend end once, at the upgrade that brought it.
    "openclaw_web.auth_backend.PersonWithRolesBackend",
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
# A lockout holds one (login name, client address) pair, never the account for everyone: an
# attacker elsewhere cannot lock the real user out. Its cool-off doubles with each repeated
# lockout of the pair within a day (openclaw_web/sign_in_lockout.py counts them from axes'
# failure log); each attempt's own expiry is stored so pairs with different cool-offs never
# shorten each other's when expired attempts are cleaned up.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
SIGN_IN_COOL_OFF_BASE_HOURS = env_float("AXES_COOLOFF_HOURS", 0.25)
SIGN_IN_COOL_OFF_MAX_HOURS = env_float("AXES_COOLOFF_MAX_HOURS", 24.0)
SIGN_IN_REPEAT_WINDOW_HOURS = 24.0
AXES_COOLOFF_TIME = "openclaw_web.sign_in_lockout.cool_off_for"
AXES_USE_ATTEMPT_EXPIRATION = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# An attempt refused because its pair is locked is not a new failure: it neither restarts the
# cool-off nor counts towards the next, longer one, so a lockout lasts exactly as long as said.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A name that matches no account (often a password typed into the wrong field) is stored by axes
# and in the audit log only as a keyed hash (openclaw_web/login_names.py).
AXES_USERNAME_CALLABLE = "openclaw_web.login_names.axes_login_name"
AXES_RESET_ON_SUCCESS = True
# The client's address, for lockouts, the audit log and API throttling alike (one resolver:
# django-ipware as configured here, called through axes.helpers.get_client_ip_address).
# TRUSTED_PROXY_COUNT is how many reverse proxies stand between the clients and Django (the
# docker-compose stack sits behind one TLS proxy). With 0, X-Forwarded-For is never read, so a
# client cannot choose its address by sending one. With N, each proxy appends the address it
# saw to X-Forwarded-For and the last proxy's own address is REMOTE_ADDR, so the client is the
# N-th entry from the right; anything further left was written by the client and is ignored.
# In ipware's terms: the header in its standard order ("left-most" = client first), proxy_count
# N-1 (ipware picks entry -(count+1)), non-strict (strict would drop the whole header whenever a
# client sends one of its own). A request with fewer entries than that (a health check from
# inside the network) falls back to REMOTE_ADDR.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_IPWARE_PROXY_ORDER = "left-most"
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT - 1 if TRUSTED_PROXY_COUNT else None
AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if TRUSTED_PROXY_COUNT else ("REMOTE_ADDR",)
IPWARE_STRICT = False
# API calls refused for want of valid credentials, per client address (ninja's "N/period"
# notation); past it they answer 429 and are counted, not logged one by one
# (openclaw_web/api/refused_calls.py).
API_REFUSED_CALL_RATE = env_str("API_REFUSED_CALL_RATE", "10/min")
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
OTP_TOTP_ISSUER = "OpenClaw"
# The Django admin is off unless asked for: people and roles are managed on /settings/people/, and
# an admin site is one more way in. When on, it never shows two-factor keys or QR codes
# (openclaw_web/admin.py replaces django-otp's device admin; this setting is a second guard).
ADMIN_ENABLED = env_bool("ADMIN_ENABLED", default=False)
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

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

# --- outbound HTTP (alert webhooks, ticket trackers: openclaw_web/outbound.py) --------------
# Link-local and cloud-metadata addresses are always refused. Private and loopback ones (an
# internal Jira, a collector on the same host) are allowed on a self-hosted install; set this to
# false where every receiver is on the public internet.
OUTBOUND_ALLOW_PRIVATE = env_bool("OUTBOUND_ALLOW_PRIVATE", default=True)

# --- 1Password ------------------------------------------------------------------------------
OP_BIN = env_str("OP_BIN", "op")
OP_TIMEOUT_SECONDS = env_float("OP_TIMEOUT_SECONDS", 60.0)
OP_CONCURRENCY = env_int("OP_CONCURRENCY", 4, minimum=1)
OP_MAX_RETRIES = env_int("OP_MAX_RETRIES", 4, minimum=0)
# Item details read per `op item get -` process (one vault each); 1 reads every item alone. Each
# process costs op's start-up and sign-in once: 100 items instead of 25 took the 20,000-item first
# sync from 240 s to 203 s, and to 189 s with three parse threads (vaults/sync.py PARSE_THREADS;
# bench/bench_sync.py). Every item is still one request, and a batch's timeout stops growing at
# 25 items' (vaults/op/runner.py).
OP_ITEM_BATCH = env_int("OP_ITEM_BATCH", 100, minimum=1)
EVENTS_API_URL = env_str("EVENTS_API_URL")
# How far back the first Events API read reaches: a SOC 2 Type II period runs up to 12 months,
# so the default covers a year and its quarter of lead-in (vaults/events.py).
EVENTS_HISTORY_DAYS = env_int("EVENTS_HISTORY_DAYS", 400, minimum=1)
# Raw item-usage events older than this become daily counts (vaults/usage_retention.py); 0 keeps all.
USAGE_RETENTION_DAYS = env_int("USAGE_RETENTION_DAYS", 800, minimum=0)
# Leavers (vaults/offboarding/): a case is due this many days after the leave date; its rotation
# plan looks this many days back from the leave date for secrets the person used.
OFFBOARDING_SLA_DAYS = env_int("OFFBOARDING_SLA_DAYS", 7, minimum=1)
OFFBOARDING_LOOKBACK_DAYS = env_int("OFFBOARDING_LOOKBACK_DAYS", 90, minimum=1)
# Break-glass (vaults/breakglass/): each use of an emergency vault must be explained within
# BREAK_GLASS_REASON_HOURS and its secret rotated within BREAK_GLASS_ROTATION_HOURS; the signed
# link that asks for the reason expires after BREAK_GLASS_LINK_DAYS. SECURITY_CONTACTS (comma-
# separated e-mails) and OpenClaw's admins are told of every use.
BREAK_GLASS_ROTATION_HOURS = env_int("BREAK_GLASS_ROTATION_HOURS", 24, minimum=1)
BREAK_GLASS_REASON_HOURS = env_int("BREAK_GLASS_REASON_HOURS", 24, minimum=1)
BREAK_GLASS_LINK_DAYS = env_int("BREAK_GLASS_LINK_DAYS", 7, minimum=1)
SECURITY_CONTACTS = env_list("SECURITY_CONTACTS", [])
# Time-limited access (vaults/access_expiry/): a guest without an end date gets one this many days
# after OpenClaw first saw them.
GUEST_ACCESS_DAYS = env_int("GUEST_ACCESS_DAYS", 90, minimum=1)
# Report controls declared out of scope: "REF=reason; REF=reason" (compliance/controls.py `not_applicable`).
CONTROLS_NOT_APPLICABLE = env_str("CONTROLS_NOT_APPLICABLE", "")

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or (CELERY_BROKER_URL or None)
# Without a broker, tasks run in-process so the demo needs nothing but Python.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# ...and on threads of the server process (openclaw_web/background.py), so a button returns at
# once and its page shows progress. The test run and management commands run them inline: a
# command must not report "done" before its work is.
_MANAGE_COMMAND = sys.argv[1] if Path(sys.argv[0]).name == "manage.py" and len(sys.argv) > 1 else ""
TASKS_IN_BACKGROUND = env_bool(
    "TASKS_IN_BACKGROUND", default=not CELERY_BROKER_URL and not RUNNING_TESTS and _MANAGE_COMMAND in ("", "runserver")
)
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
    # Alerts (compliance/alerts/): conditions that change without a findings run, and retries.
    "evaluate-alerts": {
        "task": "compliance.alerts.tasks.evaluate_all_alerts_task",
        "schedule": env_float("ALERTS_EVALUATE_SECONDS", 300.0),
    },
    "deliver-due-alerts": {
        "task": "compliance.alerts.tasks.deliver_due_alerts_task",
        "schedule": 60.0,
    },
    # End dates (vaults/access_expiry/): reminders, removals, guest defaults; and the weekly report.
    "access-expiry-daily": {
        "task": "vaults.access_expiry.tasks.run_access_expiry_task",
        "schedule": crontab(hour=6, minute=23),
    },
    "contractor-report-weekly": {
        "task": "vaults.access_expiry.tasks.weekly_contractor_report_task",
        "schedule": crontab(day_of_week=1, hour=7, minute=11),
    },
    "anchor-audit-chain-daily": {
        "task": "compliance.tasks.write_audit_anchor_task",
        "schedule": crontab(hour=env_int("AUDIT_ANCHOR_HOUR", 0, minimum=0), minute=43),
    },
}

# --- audit chain anchors (compliance/audit_anchors.py) --------------------------------------
# The newest (seq, hash) of the audit chain, written daily outside the database: an entry cut from
# the chain's tail leaves the rest intact, and only a copy kept elsewhere shows it was there.
AUDIT_ANCHOR_FILE = Path(env_str("AUDIT_ANCHOR_FILE", str(VAR_DIR / "audit-anchor.json")))
# Every anchor written is also logged here; AUDIT_ANCHOR_SYSLOG (a socket path such as /dev/log,
# or host:port) sends this logger to syslog too, a copy out of the app's reach.
AUDIT_ANCHOR_LOGGER = "openclaw.audit_anchor"
AUDIT_ANCHOR_SYSLOG = env_str("AUDIT_ANCHOR_SYSLOG")

# --- access reviews (compliance/reviews/review.py) ------------------------------------------
# A review whose scope covers a production vault needs a second approver's sign-off unless the
# person opening it says otherwise; set to 0 to leave it to that checkbox alone.
REVIEW_SECOND_APPROVER_FOR_PRODUCTION = env_bool("REVIEW_SECOND_APPROVER_FOR_PRODUCTION", default=True)

# --- e-mail ----------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend" if env_str("EMAIL_HOST") else "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
# Where EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend writes (`make demo` does).
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "outbox"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "openclaw@localhost")
# The address people open OpenClaw at (https://openclaw.example.com): links in e-mails, alerts and
# tickets are made absolute with it (openclaw_web/site_url.py); `check --deploy` warns while unset.
SITE_URL = env_str("SITE_URL", "").strip()

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"one_line_403": {"()": "openclaw_web.request_logging.OneLineForbidden"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}, "httpx": {"level": "WARNING"},
                "django.request": {"filters": ["one_line_403"]}},
}
if AUDIT_ANCHOR_SYSLOG:
    _host, _, _port = AUDIT_ANCHOR_SYSLOG.rpartition(":")
    LOGGING["handlers"]["audit_anchor_syslog"] = {
        "class": "logging.handlers.SysLogHandler", "formatter": "plain",
        "address": (_host, int(_port)) if _host and _port.isdigit() else AUDIT_ANCHOR_SYSLOG,
    }
    LOGGING["loggers"][AUDIT_ANCHOR_LOGGER] = {"handlers": ["audit_anchor_syslog"], "level": "INFO"}
