"""Settings shared by every environment.

Every value that varies between machines is read here, through one ``environ.Env``, from the process
environment or from ``.env`` at the project root. The README lists each variable.
"""

from datetime import timedelta
from pathlib import Path

import environ

from config.db.sqlite import sqlite_options
from config.env_file import read_env_file

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# Already read by the entry point that chose these settings; read here too for anything that imports them
# directly (pytest, scripts naming DJANGO_SETTINGS_MODULE).
read_env_file()

# A development-only key: production.py refuses to start with it.
INSECURE_DEV_SECRET_KEY = "django-insecure-crm-sync-development-only"
SECRET_KEY = env.str("SECRET_KEY", default=INSECURE_DEV_SECRET_KEY)
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "config.apps.CrmAdminConfig",  # django.contrib.admin with our dashboard
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",  # relative times ("3 minutes ago") in good Portuguese too
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "config.staff.third_party.AuthenticatorAppsConfig",  # django_otp.plugins.otp_totp, named for people
    "config.staff.third_party.BackupCodesConfig",  # django_otp.plugins.otp_static
    "config.staff.third_party.LoginThrottlingConfig",  # axes
    "webhooks",
    "contacts",
]

MIDDLEWARE = [
    # First, so that every log line of the request carries its id.
    "config.ops.log_context.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Webhook deliveries (views marked ``@bare``) are answered here: they need none of what follows.
    "config.web.bare_views.BareViewMiddleware",
    # Serves the admin's and the API docs' static files (collected into STATIC_ROOT) from gunicorn itself.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The admin's language from the browser's Accept-Language (English or Brazilian Portuguese).
    "django.middleware.locale.LocaleMiddleware",
    # The REST API keeps answering in UTC ("Z") whatever TIME_ZONE says: its clients parse our times.
    "config.values.timestamps.ApiInUtcMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Ends sessions idle for ADMIN_SESSION_IDLE_MINUTES, before anything reads request.user's verification.
    "config.staff.sessions.IdleSessionMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Staff who have not passed their second factor reach no admin page but the two-factor ones.
    "config.staff.two_factor.AdminTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Collects the people's data each answer reads, for the access trail (contacts.access).
    "config.staff.answer_reads.AnswerReadsMiddleware",
    # Last, as django-axes asks: turns a locked-out login attempt into its lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "config.values.timestamps.time_zone_context",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Reusing connections matters: opening one costs more than storing a webhook.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's engine, its health check free of a round trip while the connection is fine (config/db/postgresql/).
    DATABASES["default"]["ENGINE"] = "config.db.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL, BEGIN IMMEDIATE and a busy timeout: concurrent writers on the embedded database (config/db/sqlite/).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        sqlite_options(env.int("SQLITE_BUSY_TIMEOUT_SECONDS", default=20))
    )
# The statements bound server-side (ingest's INSERT, the worker's set-based writes: config/db/bulk.py) are
# prepared after a few runs on a connection, so PostgreSQL parses and plans each once, not per delivery.
# Django's own queries bind client-side and are never prepared. Off behind a pooler in transaction mode
# that cannot keep prepared statements (PgBouncer before 1.22, or its max_prepared_statements = 0).
if DATABASES["default"]["ENGINE"] == "config.db.postgresql" and env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out username+address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Used when the browser asks for neither language we have.
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en-us")
LANGUAGES = [("en", "English"), ("pt-br", "Português (Brasil)")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The zone the admin shows times in; they are stored in UTC, and the API answers in UTC.
TIME_ZONE = env.str("TIME_ZONE", default="America/Sao_Paulo")
USE_I18N = True
USE_TZ = True
# One date-time format in both languages, with the zone (config/formats/).
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# --- Staff access (docs/access.md) --------------------------------------------------------------------
# TOTP two-factor authentication for every staff user on every admin page (and for session use of the API).
ADMIN_REQUIRE_2FA = env.bool("ADMIN_REQUIRE_2FA", default=True)
OTP_TOTP_ISSUER = "crm-sync"
# Login throttling (django-axes): LOGIN_FAILURE_LIMIT wrong passwords for one username from one address lock
# that pair (never the whole address: an office shares one) for LOGIN_LOCKOUT_MINUTES.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/login_locked_out.html"
# Masked in the failed attempt's stored query and form: `next` can carry a contact search (a person's name).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "next", "csrfmiddlewaretoken"]
# The address as the webhooks see it: REMOTE_ADDR, or what WEBHOOK_TRUSTED_PROXY_COUNT trusted proxies saw.
AXES_CLIENT_IP_CALLABLE = "config.web.client_address.client_address"
# Idle admin sessions end: the session (cookie and row) lives this long after the last request.
ADMIN_SESSION_IDLE_MINUTES = env.int("ADMIN_SESSION_IDLE_MINUTES", default=30)
SESSION_COOKIE_AGE = ADMIN_SESSION_IDLE_MINUTES * 60
ACCESS_LOG_RETENTION_DAYS = env.int("ACCESS_LOG_RETENTION_DAYS", default=180)

# --- Webhooks ---------------------------------------------------------------------------------------


def entry_list(variable: str) -> list[str]:
    """A comma-separated variable's entries, whitespace around each removed and empty ones dropped: "new, old"
    (a space after the comma) must not make a secret nobody signs with."""
    return [entry.strip() for entry in env.list(variable, default=[]) if entry.strip()]


def webhook_provider(name: str, **specific) -> dict:
    """One provider's entry, from the variables every provider has: ``<NAME>_WEBHOOK_SECRETS`` (comma-separated,
    several during a rotation; none: its endpoint answers 503) and ``<NAME>_ACCOUNT_IDS`` (the accounts it may
    deliver for; none: any), plus the settings only this provider has. ``MODULE`` (optional) names the module
    implementing it, by default ``webhooks.providers.<name>`` (docs/providers.md)."""
    prefix = name.upper()
    return {
        "SECRETS": entry_list(f"{prefix}_WEBHOOK_SECRETS"),
        "ACCOUNT_IDS": entry_list(f"{prefix}_ACCOUNT_IDS"),
        **specific,
    }


# Per-provider configuration, keyed by the provider's name in the URL (/webhooks/<name>/): one entry each.
WEBHOOK_PROVIDERS = {
    "timely": webhook_provider("timely", IGNORE_ACTORS=entry_list("TIMELY_IGNORE_ACTORS")),
    "fpt": webhook_provider("fpt"),
}
WEBHOOK_TOLERANCE_SECONDS = env.int("WEBHOOK_TOLERANCE_SECONDS", default=300)
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=1_048_576)
# How many reverse proxies in front of us append to X-Forwarded-For. 0: trust only REMOTE_ADDR.
WEBHOOK_TRUSTED_PROXY_COUNT = env.int("WEBHOOK_TRUSTED_PROXY_COUNT", default=0)
PAYLOAD_RETENTION_DAYS = env.int("PAYLOAD_RETENTION_DAYS", default=90)
# Transient processing failures (database unreachable, a provider's TransientError) are retried with
# exponential backoff: about BACKOFF × 2^(try-1) seconds, at most MAX_BACKOFF, MAX_ATTEMPTS tries in all.
WEBHOOK_RETRY_MAX_ATTEMPTS = env.int("WEBHOOK_RETRY_MAX_ATTEMPTS", default=8)
WEBHOOK_RETRY_BACKOFF_SECONDS = env.int("WEBHOOK_RETRY_BACKOFF_SECONDS", default=30)
WEBHOOK_RETRY_MAX_BACKOFF_SECONDS = env.int("WEBHOOK_RETRY_MAX_BACKOFF_SECONDS", default=3600)
# Where stored events are applied: "inline" (right after the delivery's commit, in the request; the
# embedded default) or "worker" (the request only stores; `manage.py webhook_worker` applies, in batches).
WEBHOOK_PROCESSING = env.str("WEBHOOK_PROCESSING", default="inline")
if WEBHOOK_PROCESSING not in ("inline", "worker"):
    raise environ.ImproperlyConfigured(f"WEBHOOK_PROCESSING must be inline or worker, not {WEBHOOK_PROCESSING!r}")
# An idle worker waits for PostgreSQL's NOTIFY, and looks for due work (retries, look-ups) at least this
# often; without LISTEN (SQLite, PgBouncer in transaction mode: WEBHOOK_WORKER_LISTEN=false) it polls.
WEBHOOK_WORKER_POLL_SECONDS = env.float("WEBHOOK_WORKER_POLL_SECONDS", default=5.0)
WEBHOOK_WORKER_LISTEN = env.bool("WEBHOOK_WORKER_LISTEN", default=True)
# Downstream deliveries (docs/downstream.md): a failed try is retried after about BASE × 2^(try-1) seconds
# (jittered, at most 6 h apart) until GIVE_UP_HOURS after the message was queued, then it is failed.
OUTBOUND_RETRY_BASE_SECONDS = env.int("OUTBOUND_RETRY_BASE_SECONDS", default=30)
OUTBOUND_GIVE_UP_HOURS = env.float("OUTBOUND_GIVE_UP_HOURS", default=72)
# Private, loopback or link-local networks (CIDRs) a downstream URL may reach, over http:// too; public
# addresses only over https://; cloud metadata addresses never.
OUTBOUND_ALLOWED_NETWORKS = env.list("OUTBOUND_ALLOWED_NETWORKS", default=[])

# --- Contacts ---------------------------------------------------------------------------------------
ERASURE_FINGERPRINT_KEY = env.str("ERASURE_FINGERPRINT_KEY", default="")
# Data-subject requests (docs/compliance.md): the answer is due DSR_DEADLINE_DAYS after the request
# arrived (LGPD Art. 19: 15 days for the full answer); a closed request keeps its links to the person for
# DSR_RETENTION_DAYS (5 years: the limitation period of consumer claims, CDC Art. 27), then only its kind,
# dates, outcome and erasure records stay.
DSR_DEADLINE_DAYS = env.int("DSR_DEADLINE_DAYS", default=15)
DSR_RETENTION_DAYS = env.int("DSR_RETENTION_DAYS", default=1826)
# An erasure not yet delivered to, or confirmed by, every downstream system after this long is overdue.
ERASURE_PROPAGATION_HOURS = env.float("ERASURE_PROPAGATION_HOURS", default=24)
# Region assumed for phone numbers written without a country code (both providers are Brazilian).
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="BR")
# Per provider, the dotted path of a callable that looks up a contact's current state
# (``fetch(*, provider, account_id, external_id) -> webhooks.events.ContactSnapshot | None``), from
# ``<NAME>_CONTACT_FETCHER`` for every provider in WEBHOOK_PROVIDERS (FPT_CONTACT_FETCHER, ...).
# None by default: "something changed" signals then only mark contacts needs_refresh.
CONTACT_FETCHERS = {
    name: path for name in WEBHOOK_PROVIDERS if (path := env.str(f"{name.upper()}_CONTACT_FETCHER", default=""))
}
# A failed lookup is retried after BACKOFF, 2×, 4×, ... (capped at 6 h), at most MAX_ATTEMPTS times.
CONTACT_REFRESH_MAX_ATTEMPTS = env.int("CONTACT_REFRESH_MAX_ATTEMPTS", default=8)
CONTACT_REFRESH_BACKOFF_SECONDS = env.int("CONTACT_REFRESH_BACKOFF_SECONDS", default=30)

# --- Cache ------------------------------------------------------------------------------------------
# Holds the API's throttle counters: per process by default; a shared cache (e.g. dbcache://crm_cache,
# after `manage.py createcachetable`) makes the rate exact across workers.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# --- API --------------------------------------------------------------------------------------------
# Requests per user (per address when anonymous): "<n>/second|minute|hour|day"; empty turns it off.
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="600/minute")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "config.web.api.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["config.web.api.ModelViewPermission"],
    "DEFAULT_FILTER_BACKENDS": ["config.web.api.ValidatedFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "config.web.api.IdCursorPagination",
    "DEFAULT_THROTTLE_CLASSES": ["config.web.api.PerUserThrottle"],
    "PAGE_SIZE": env.int("API_PAGE_SIZE", default=100),
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "crm-sync API",
    "DESCRIPTION": "Read-only access to synced contacts, the webhook event log and the LGPD erasure log.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and ReDoc from our own static files (drf-spectacular-sidecar), never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Metrics ---------------------------------------------------------------------------------------
# Empty: GET /metrics answers 404. Otherwise scrapes must send "Authorization: Bearer <token>".
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# A directory every process writes its counters to (prometheus-client's multiprocess mode), needed with
# more than one process (gunicorn's workers, several webhook workers). prometheus-client itself reads it
# from the process environment on import; set it in the services' units (docs/operations.md). Empty, the
# serving entry points choose one of the installation's own (config/ops/shared_counters.py).
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")

# --- Logging ----------------------------------------------------------------------------------------
# Log records never carry personal data: code logs ids, counts and error classes only.
# ``plain`` lines for people; ``json``: one JSON object per line (timestamp, level, logger, message, request id,
# event id, provider) for a log pipeline. config/ops/log_context.py.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain") or "plain"
if LOG_FORMAT not in ("plain", "json"):
    raise environ.ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "config.ops.log_context.ContextFilter"}},
    # Log lines carry UTC times ("…Z") whatever TIME_ZONE (which Django also sets as the process's TZ) says.
    "formatters": {
        "plain": {
            "()": "config.values.timestamps.UtcLogFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
        "json": {"()": "config.ops.log_context.JsonLineFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # django-axes announces itself at INFO in every process, each manage.py command included; its warnings
    # (lockouts) still come from its other loggers.
    "loggers": {"axes.apps": {"level": "WARNING"}},
}
