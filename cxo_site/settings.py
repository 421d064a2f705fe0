"""CXO settings: every value comes from an environment variable.

With no variable set, CXO runs in the *embedded* mode: SQLite under ``var/``,
Celery tasks run eagerly in-process and the cache is in memory. Production sets
``DATABASE_URL`` (PostgreSQL), ``REDIS_URL`` (cache, rate limits, broker) and
``DJANGO_DEBUG=false``. Every variable is documented in ``.env.example`` and
``docs/settings.md``.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CXO_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEV_SECRET_KEY = "cxo-development-only-not-secret"  # noqa: S105 - refused outside DEBUG below
DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false.")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "cxo_site",
    "profiles",
    "segments",
    "offers",
    "journeys",
    "analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "cxo_site.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "cxo_site.urls"
WSGI_APPLICATION = "cxo_site.wsgi.application"

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
                "cxo_site.roles.navigation",
            ],
        },
    },
]

# --- database -----------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'cxo.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60))
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the console read while ingestion writes; IMMEDIATE avoids lock upgrades.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA secure_delete=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
if IS_POSTGRES and not env_bool("CXO_PG_JIT", False):
    # PostgreSQL's JIT compiles the audience queries' expressions on every run (~0.4 s each at 10M
    # events) and gains nothing back on queries of a few seconds: off unless asked for.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache, broker, Celery ------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "cxo"}}

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", REDIS_URL or "cache+memory://")
# Without a broker, tasks run eagerly in-process (the embedded mode).
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict = {
    "process-pending-events": {
        # A safety net: each accepted request schedules its own processing on commit.
        "task": "profiles.tasks.process_pending_events",
        "schedule": float(env_int("CXO_PROCESS_SWEEP_SECONDS", 30)),
    },
    "evaluate-time-dependent-audiences": {
        # Moves people out of "no purchase in 60 days"-style audiences on time.
        "task": "segments.tasks.evaluate_time_dependent_audiences",
        "schedule": float(env_int("CXO_AUDIENCE_REEVALUATE_SECONDS", 900)),
    },
    "destinations-retry-due-deliveries": {
        # Safety net for webhook retries (a worker also schedules each retry at its back-off time).
        "task": "segments.destinations.tasks.retry_due_deliveries",
        "schedule": float(env_int("CXO_DESTINATION_SWEEP_SECONDS", 15)),
    },
    "destinations-run-due-exports": {
        "task": "segments.destinations.tasks.run_due_exports",
        "schedule": float(env_int("CXO_DESTINATION_SWEEP_SECONDS", 15)),
    },
}

# --- auth, API ---------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "cxo_site.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "cxo_site.errors.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CXO API",
    "DESCRIPTION": "Collection (Segment tracking spec) and management API of CXO.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- collection ---------------------------------------------------------------------
CXO_MAX_MESSAGE_BYTES = env_int("CXO_MAX_MESSAGE_BYTES", 32 * 1024)
CXO_MAX_BATCH_BYTES = env_int("CXO_MAX_BATCH_BYTES", 500 * 1024)
CXO_FUTURE_TOLERANCE_SECONDS = env_int("CXO_FUTURE_TOLERANCE_SECONDS", 300)
CXO_DEFAULT_RATE_LIMIT = env_int("CXO_DEFAULT_RATE_LIMIT", 20000)  # events per second per source
CXO_PROCESS_BATCH_SIZE = env_int("CXO_PROCESS_BATCH_SIZE", 5000)
CXO_LIST_UPLOAD_MAX_BYTES = env_int("CXO_LIST_UPLOAD_MAX_BYTES", 20 * 1024 * 1024)
# GDPR erasure: VACUUM FULL rewrites the tables (a guarantee, but it locks them); plain VACUUM by default.
CXO_ERASURE_VACUUM_FULL = env_bool("CXO_ERASURE_VACUUM_FULL", False)

# --- destinations (segments/destinations, docs/destinations.md) ------------------------
CXO_EXPORT_DIR = Path(os.environ.get("CXO_EXPORT_DIR", VAR_DIR / "exports"))
CXO_WEBHOOK_TIMEOUT_SECONDS = env_int("CXO_WEBHOOK_TIMEOUT_SECONDS", 10)
CXO_WEBHOOK_RETRY_BASE_SECONDS = env_int("CXO_WEBHOOK_RETRY_BASE_SECONDS", 30)
CXO_WEBHOOK_RETRY_MAX_SECONDS = env_int("CXO_WEBHOOK_RETRY_MAX_SECONDS", 3600)

# --- i18n, static -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", VAR_DIR / "staticfiles"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing directory
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- security: strict by default outside DEBUG ----------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the meta tag, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("CXO_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
