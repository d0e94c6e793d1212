"""Settings for the seeme service, driven by environment variables.

One settings story for every environment (cookiecutter-django style): nothing here changes
behaviour by file; everything a deployment tunes is an environment variable listed in the README.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false/1/0), got {raw!r}")


DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off "
            "(set DJANGO_DEBUG=true for local development)."
        )
    SECRET_KEY = "django-insecure-local-development-only"

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "seeme.admin_config.SeemeAdminConfig",  # django.contrib.admin with our site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "seeme",
    "splits",
    "labels",
    "django_htmx",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Before anything reads the address: NUL / lone surrogates in the path or query are a 400.
    "seeme.middleware.RefuseBadCharactersMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into our 429 answer.
    "axes.middleware.AxesMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "seeme.urls"
WSGI_APPLICATION = "seeme.wsgi.application"

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
            ],
        },
    },
]

# SQLite in var/ is the embedded default; DATABASE_URL=postgres://... switches to PostgreSQL
# (psycopg 3). SQLite runs every transaction as BEGIN IMMEDIATE so writers queue on the busy
# timeout instead of failing half-way with "database is locked".
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    # Connections are kept for a minute and checked before reuse: one that died meanwhile
    # (restart, fail-over, idle timeout) is replaced instead of failing the next request.
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=int(os.environ.get("SEEME_DB_CONN_MAX_AGE", "60")),
            conn_health_checks=True,
        )
    }
else:
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(VAR_DIR / "seeme.sqlite3")),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

# The hottest reads (label statistics by API key) run as server-side prepared statements on
# PostgreSQL (seeme.db.fetch_prepared): planned once per connection. Turn off behind a
# transaction-mode pooler that predates prepared-statement support (PgBouncer < 1.21).
SEEME_PREPARED_STATEMENTS = env_bool("SEEME_PREPARED_STATEMENTS", True)

# A version duplicate checks its rows' foreign keys with one query per key instead of one
# lookup per row (seeme.references), where the database role may set session_replication_role
# (a superuser, or GRANT SET ON PARAMETER session_replication_role, PostgreSQL 15+). Off: the
# per-row checks, as for every other write.
SEEME_SET_BASED_FK_CHECKS = env_bool("SEEME_SET_BASED_FK_CHECKS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "seeme.User"

# django-axes checks the lock before the password is hashed (a locked-out attempt costs no
# PBKDF2 round), then the model backend.
AUTHENTICATION_BACKENDS = [
    "seeme.lockout.AxesBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "seeme.passwords.NotBlankValidator"},
    {"NAME": "seeme.passwords.MaximumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", VAR_DIR / "staticfiles"))
# WhiteNoise serves from STATIC_ROOT (after collectstatic) and, with the finders on, straight
# from static/; it warns on every start while the folder does not exist.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Item files and logos go through the "default" storage, by content (seeme/files.py): the
# file system under var/media/ (SEEME_MEDIA_ROOT), or any S3-compatible object store when
# SEEME_S3_BUCKET is set (django-storages + boto3). Files are only ever served through the
# API, which checks access, so neither needs to be public.
MEDIA_ROOT = Path(os.environ.get("SEEME_MEDIA_ROOT", VAR_DIR / "media"))
SEEME_S3_BUCKET = os.environ.get("SEEME_S3_BUCKET", "")
if SEEME_S3_BUCKET:
    FILES_STORAGE: dict = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": SEEME_S3_BUCKET,
            "endpoint_url": os.environ.get("SEEME_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("SEEME_S3_REGION") or None,
            "access_key": os.environ.get("SEEME_S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("SEEME_S3_SECRET_ACCESS_KEY") or None,
            "location": os.environ.get("SEEME_S3_PREFIX", ""),
            "default_acl": None,
            "querystring_auth": True,
            # Same name, same bytes: never rename on a second store.
            "file_overwrite": True,
        },
    }
else:
    FILES_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    }
STORAGES = {
    "default": FILES_STORAGE,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Messages live in the session (server side): the admin shows a new API key once in a
# message, and a cookie-based store would send it to the browser again in a cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

LOGIN_URL = "login"
# Namespaced: the bare "dataset-list" is the API router's /api/v1/datasets.
LOGIN_REDIRECT_URL = "seeme:dataset-list"
LOGOUT_REDIRECT_URL = "login"

# Registration through POST /api/v1/register is open unless this says otherwise.
SEEME_OPEN_REGISTRATION = env_bool("SEEME_OPEN_REGISTRATION", True)
# Keys made by POST /api/v1/login and /register stop working after this many days (named keys
# keep the expiry they were made with); expired keys are deleted at the user's next login and
# by `manage.py prune_api_keys`.
SEEME_LOGIN_KEY_DAYS = int(os.environ.get("SEEME_LOGIN_KEY_DAYS", "30"))
# How many inferences one add_inferences request may carry.
SEEME_MAX_INFERENCES = int(os.environ.get("SEEME_MAX_INFERENCES", "10000"))
# The largest request body: 10,000 inferences with descriptions and regions pass Django's
# default 2.5 MB, so the limit is in MB here.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("SEEME_MAX_BODY_MB", "64")) * 2**20
# JSON bodies nested deeper than this are refused with a 400 (seeme.api.parsers).
SEEME_MAX_JSON_DEPTH = int(os.environ.get("SEEME_MAX_JSON_DEPTH", "64"))
# Item files and logos: the largest file accepted (413 above), and the most pixels an image
# may have (Pillow's decompression-bomb guard; a larger image is refused with a 400).
SEEME_MAX_UPLOAD_MB = int(os.environ.get("SEEME_MAX_UPLOAD_MB", "50"))
SEEME_MAX_IMAGE_PIXELS = int(os.environ.get("SEEME_MAX_IMAGE_PIXELS", str(64 * 2**20)))
# Longest side of the stored thumbnails (64-512 px).
SEEME_THUMBNAIL_PX = min(512, max(64, int(os.environ.get("SEEME_THUMBNAIL_PX", "256"))))
# gc_files leaves an unreferenced blob alone this long after it was last stored, so an
# importer may store files first and create the items that refer to them afterwards.
SEEME_BLOB_GRACE_MINUTES = int(os.environ.get("SEEME_BLOB_GRACE_MINUTES", "60"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "seeme.api.authentication.APIKeyAuthentication",
        "seeme.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["seeme.api.parsers.SafeJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "seeme.api.negotiation.JSONByDefaultNegotiation",
    "EXCEPTION_HANDLER": "seeme.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "seeme.api.schema.SeemeAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "seeme dataset API",
    "DESCRIPTION": (
        "The SeeMe.ai dataset API: datasets, versions, labels, splits, items, annotations and "
        "always-exact label statistics."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Swagger UI assets come from the drf-spectacular-sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "seeme.models.Role",
        "ContentTypeEnum": "seeme.models.ContentType",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "seeme.api.schema.strip_trailing_slashes",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
}

# -- login throttling (django-axes) -----------------------------------------------------------
# All three logins (POST /api/v1/login, /login/, /admin/login/) count failures together. After
# SEEME_LOGIN_FAILURE_LIMIT failures for one username, or from one address, further attempts are
# refused (429; the API adds Retry-After) until SEEME_LOGIN_COOLOFF_MINUTES have passed since
# the last failure counted; attempts during the lock do not extend it, so the real user gets
# back in. A successful login before the limit resets the count.

# Behind our own reverse proxy (TLS ends there): trust its X-Forwarded-Proto and the address it
# appends to X-Forwarded-For. Never on a server reachable without the proxy.
SEEME_BEHIND_PROXY = env_bool("SEEME_BEHIND_PROXY", False)

AXES_FAILURE_LIMIT = int(os.environ.get("SEEME_LOGIN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("SEEME_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "seeme.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "seeme.lockout.client_ip"
AXES_VERBOSE = False

# -- HTTPS and browser protections (production: see README "Production") ---------------------
# Off by default so `make run` works over plain HTTP; the README's production environment turns
# them on, and `manage.py check --deploy` is clean under it (tests/security/test_production.py).
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
if SEEME_BEHIND_PROXY:
    # The proxy ends TLS and says so; it must overwrite (not pass on) the client's header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy (django-csp): pages load scripts, styles, images and fonts from our
# own origin only (static/, vendored); no inline <script> or <style> element runs. Style
# *attributes* stay allowed (style-src-attr): the pages set label colours and bar widths from
# data through them, each value checked by a template filter (label_color, bar_width), and an
# attribute can neither load anything nor run script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# -- long work (jobs; docs/architecture.md "Jobs") ----------------------------------------------
# Django's tasks API (django-tasks backport on 5.2) with the database backend: the queue is a
# table of the same database, so SQLite and PostgreSQL need no other service. `manage.py
# db_worker` runs the tasks (`make run` starts one beside the web server).
TASKS = {
    "default": {
        "BACKEND": os.environ.get("SEEME_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}
# Work on more items than this (version duplicate, split assign, bulk move) runs as a job: the
# API answers 202 with the job instead of the result. Smaller work is done in the request.
SEEME_SYNC_LIMIT = int(os.environ.get("SEEME_SYNC_LIMIT", "20000"))
# A running job writes a heartbeat every SEEME_JOB_HEARTBEAT_SECONDS; one silent for longer
# than SEEME_JOB_LEASE_SECONDS lost its worker and is retried, up to SEEME_JOB_MAX_ATTEMPTS
# runs, then failed. (On SQLite keep the lease above the longest single job transaction: the
# heartbeat cannot be written while another connection holds the write lock.)
SEEME_JOB_HEARTBEAT_SECONDS = float(os.environ.get("SEEME_JOB_HEARTBEAT_SECONDS", "5"))
SEEME_JOB_LEASE_SECONDS = float(os.environ.get("SEEME_JOB_LEASE_SECONDS", "120"))
SEEME_JOB_MAX_ATTEMPTS = int(os.environ.get("SEEME_JOB_MAX_ATTEMPTS", "3"))

# Whole-version zip imports (labels/archive): the limits every archive is checked against
# before anything of it is read into the database.
SEEME_ARCHIVE_MAX_ENTRIES = int(os.environ.get("SEEME_ARCHIVE_MAX_ENTRIES", "250000"))
SEEME_ARCHIVE_MAX_UNPACKED_MB = int(os.environ.get("SEEME_ARCHIVE_MAX_UNPACKED_MB", "4096"))
SEEME_ARCHIVE_MAX_RATIO = int(os.environ.get("SEEME_ARCHIVE_MAX_RATIO", "200"))
SEEME_ARCHIVE_MAX_DOCUMENT_MB = int(os.environ.get("SEEME_ARCHIVE_MAX_DOCUMENT_MB", "256"))
# An archive with more files than SEEME_SYNC_LIMIT, or more unpacked MB than this, is
# imported by a job (the upload answers 202 with it); smaller ones in the request.
SEEME_ARCHIVE_SYNC_MB = int(os.environ.get("SEEME_ARCHIVE_SYNC_MB", "100"))
# Zips written by export jobs (exports/<job id>.zip) are deleted after this many hours.
SEEME_EXPORT_KEEP_HOURS = float(os.environ.get("SEEME_EXPORT_KEEP_HOURS", "24"))
