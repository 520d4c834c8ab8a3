"""Settings for every way to run, read from the environment in this one place.

With no environment at all the product runs embedded: SQLite in ``DATA_DIR``, Celery tasks
executed in-process (errors propagate). ``CELERY_BROKER_URL=filesystem://`` (set by ``./run``)
gives a real worker and beat with no server; ``REDIS_URL`` gives Redis as broker and result
backend; ``DATABASE_URL`` selects PostgreSQL. Production differs only by these variables.
"""

import datetime as dt
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / "var"))
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (production).")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_celery_beat",
    "django_filters",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "bootstrap",
    "workspaces",
    "accounts",
    "leads",
    "attribution",
    "funnel",
    "sync",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # after authentication: a member's own language choice beats the browser's; the API stays English
    "workspaces.middleware.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "workspaces.middleware.WorkspaceMiddleware",
    # last, as django-axes asks: turns a locked-out login into the 429 login page
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "workspaces.context_processors.workspace",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        # a kept connection that the server dropped (a restart, a failover, a pooler's timeout)
        # is checked and replaced at the start of a request, instead of answering one 500
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the embedded worker read while the web process writes; the timeout makes a
    # writer wait for the lock instead of failing at once.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "workspaces.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "workspace-switch"
LOGOUT_REDIRECT_URL = "login"
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- Login throttling (django-axes) and the client's address --------------------------------
# The client's address is the X-Forwarded-For entry added by the outermost of this many trusted
# proxies; 0 (no proxy) means REMOTE_ADDR and X-Forwarded-For is ignored (anyone can send it).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
AUTHENTICATION_BACKENDS = [
    "workspaces.login_lockout.LoginLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "workspaces.login_lockout.LoginAttemptHandler"
# 5 failures of one (account, address) pair lock that pair; LOGIN_ADDRESS_FAILURE_LIMIT
# failures from one address, whatever the accounts, lock the address (LoginAttemptHandler).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_FAILURE_LIMIT = 5
LOGIN_ADDRESS_FAILURE_LIMIT = 50
AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
# a lock lasts 15 minutes from the failure that set it, however often it is knocked on
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# a success must not wipe the address's failures at other accounts
AXES_RESET_ON_SUCCESS = False
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "workspaces.login_lockout.attempted_username"
AXES_CLIENT_IP_CALLABLE = "workspaces.client_address.client_ip"
AXES_LOCKOUT_CALLABLE = "workspaces.auth_views.lockout_response"
# successful logins go to the audit trail (user_logged_in), not to a second table
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# API keys: this many bad keys from one address within the window refuse that address (429)
API_KEY_FAILURE_LIMIT = 20
# password reset requests: per address and per email within the window, then 429
PASSWORD_RESET_ADDRESS_LIMIT = 20
PASSWORD_RESET_EMAIL_LIMIT = 5
LOCKOUT_WINDOW = dt.timedelta(minutes=15)
PASSWORD_RESET_TIMEOUT = 2 * 60 * 60
INVITATION_TIMEOUT = 72 * 60 * 60

# --- Email: console when embedded; EMAIL_URL (smtp://, smtp+tls://, smtps://) in production ---
EMAIL_URL = os.environ.get("EMAIL_URL", "")


def email_url_settings(url: str) -> dict:
    """The EMAIL_* settings one URL names: ``smtp://user:password@host:25`` (plain),
    ``smtp+tls://…`` (STARTTLS, port 587 unless given), ``smtps://…`` (TLS from the start, port
    465 unless given); ``console:`` prints mails; user and password percent-encoded."""
    parts = urlsplit(url)
    if parts.scheme in {"", "console"}:
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    ports = {"smtp": 25, "smtp+tls": 587, "smtps": 465}
    if parts.scheme not in ports or not parts.hostname:
        raise ImproperlyConfigured("EMAIL_URL must look like smtp+tls://user:password@host:587 (or smtp://, smtps://).")
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": parts.port or ports[parts.scheme],
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": parts.scheme == "smtp+tls",
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_TIMEOUT": 10,
    }


_email = email_url_settings(EMAIL_URL)
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = _email.get("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Funnel <funnel@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LANGUAGE_CODE = "en-us"
# A member's choice (User.language), else the browser's Accept-Language, else English
# (docs/i18n.md). Catalogs: locale/<lang>/LC_MESSAGES/django.po, compiled by ./run and ./test.
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# counts grouped as amounts are (1,234,567) in Chinese too: config/formats/zh_Hans/formats.py
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Behind the TLS proxy (which sets X-Forwarded-Proto: https): plain HTTP is redirected and
    # browsers are told to use HTTPS only. Turn either off in the environment (0) if TLS ends
    # somewhere that does not set the header; SECURE_HSTS_SECONDS=0 sends no HSTS.
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 60 * 60)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# Content-Security-Policy on every answer (django-csp): scripts and everything else only from
# this site, no inline script. Inline *styles* are allowed: the Swagger UI page has a <style>
# block, htmx adds its indicator style, plotly sets style attributes on its charts, and our
# templates use a few style attributes; a style cannot run code, so this keeps the protection
# that matters (no injected script) without forking those libraries. img-src data: and blob:
# are for plotly's "download as PNG"; frame-ancestors 'none' matches X-Frame-Options DENY.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Celery: eager in-process, filesystem worker (embedded run) or Redis -------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "") or REDIS_URL
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = DATA_DIR / "celery" / "queue"
    _processed_dir = DATA_DIR / "celery" / "processed"
    _results_dir = DATA_DIR / "celery" / "results"
    _control_dir = DATA_DIR / "celery" / "control"  # kombu's exchange table: else ./control
    for _folder in (_queue_dir, _processed_dir, _results_dir, _control_dir):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "control_folder": str(_control_dir),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{_results_dir}"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
# A request that sends a task must not hang or fail while the broker is down: give up sending
# quickly (the work waits in the database, and beat's sweeps send it again; config/celery.py).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "interactive"
CELERY_TASK_ROUTES = {"funnel.tasks.recompute_workspace_task": {"queue": "recompute"}}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    # Each workspace has its own interval (recompute_interval_minutes); this only looks for due ones.
    "recompute-due-workspaces": {"task": "funnel.tasks.recompute_due_workspaces", "schedule": 60},
    "retry-due-webhook-deliveries": {"task": "sync.tasks.deliver_due_webhooks", "schedule": 60},
    # Import jobs whose message was lost (sent while the broker was down); the worker also
    # runs these sweeps when it starts (config/celery.py).
    "enqueue-waiting-imports": {"task": "sync.tasks.enqueue_waiting_imports", "schedule": 60},
    "purge-old-idempotency-records": {"task": "sync.tasks.purge_idempotency_records", "schedule": 6 * 60 * 60},
    # Rescore jobs whose message was lost; and every workspace's scores once a day, as touches
    # age (a half-life lowers them) and leave the engagement window.
    "enqueue-waiting-rescores": {"task": "leads.tasks.enqueue_waiting_rescores", "schedule": 60},
    "rescore-every-workspace": {"task": "leads.tasks.rescore_every_workspace", "schedule": 24 * 60 * 60},
    "purge-expired-sessions": {
        "task": "workspaces.tasks.purge_expired_sessions",
        "schedule": 6 * 60 * 60,
    },
}

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "cache_table",
        }
    }

# --- REST API (/api/v1/) ---------------------------------------------------------------------
API_THROTTLE_RATE = os.environ.get("API_THROTTLE_RATE", "600/min")
API_MAX_BODY_BYTES = int(os.environ.get("API_MAX_BODY_BYTES", str(10 * 1024 * 1024)))
API_MAX_BATCH = 1000
API_PAGE_SIZE = 100
API_MAX_PAGE_SIZE = 1000
# Django refuses larger bodies itself (answered 413 by the API); uploaded files are not counted.
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
# Memory each web process may keep for prepared snapshots (the dashboards' numbers), in MB.
REPORT_CACHE_MB = int(os.environ.get("REPORT_CACHE_MB", "600"))
IMPORT_MAX_FILE_BYTES = int(os.environ.get("IMPORT_MAX_FILE_BYTES", str(200 * 1024 * 1024)))
# Webhook URLs that resolve to loopback or private addresses are refused unless allowed here
# (on by default while DEBUG is on, for local receivers).
WEBHOOK_ALLOW_PRIVATE_HOSTS = env_bool("WEBHOOK_ALLOW_PRIVATE_HOSTS", DEBUG)
WEBHOOK_TIMEOUT_SECONDS = 10

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "workspaces.api_auth.BearerAPIKeyAuthentication",
        "workspaces.api_auth.WorkspaceSessionAuthentication",
    ],
    # Deny by default: every endpoint states what it needs (workspaces.api.WorkspaceAPIView).
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["workspaces.api_auth.PrincipalRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"principal": API_THROTTLE_RATE},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's, with deep nesting a 400 rather than a RecursionError (workspaces.api_parsers)
    "DEFAULT_PARSER_CLASSES": ["workspaces.api_parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "workspaces.api.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Funnel API",
    "DESCRIPTION": (
        "Sync accounts, leads, campaigns, touches, opportunities and stage history, and read the "
        "funnel and attribution metrics. Authenticate with `Authorization: Bearer <key>` (keys are "
        "made by workspace admins); every write accepts an `Idempotency-Key` header."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "sync.schema.document_common_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        # choices as plain values: the API names stages and types by their identifiers
        "LeadStage": "funnel.stages.Stage.values",
        "OpportunityStage": "funnel.stages.OpportunityStage.values",
        "CampaignType": "attribution.choices.CampaignType.values",
        "TouchType": "attribution.choices.TouchType.values",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
