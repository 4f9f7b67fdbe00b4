"""``Authorization: Bearer pbk_...``: who is calling a published flow.

One function decides (``authenticate_api_key``, its rule in ``check_key``); the
async flow views reach it through call_cache.py and DRF views use it through
``ApiKeyAuthentication``. Revocation takes effect at the next call: the
database is read on every call here, and call_cache.py's cached rows are
dropped as soon as a key changes.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .errors import CallRefused, unauthorized
from .keys import matches, prefix_of
from .models import ApiKey

# last_used_at is written at most this often per key, so busy keys don't all queue on one row.
LAST_USED_RESOLUTION = dt.timedelta(seconds=30)
HOW_TO = "Send your API key as 'Authorization: Bearer pbk_…'."


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def authenticate_api_key(header: str | None) -> ApiKey:
    """The active key named by an Authorization header, or ``CallRefused`` (401)."""
    raw = presented_key(header)
    key = check_key(raw, key_by_prefix(prefix_of(raw)))
    touch(key)
    return key


def presented_key(header: str | None) -> str:
    """The key string of an Authorization header, or ``CallRefused`` (401) when there is none."""
    raw = bearer_token(header)
    if raw is None:
        raise unauthorized("not_authenticated", f"No API key. {HOW_TO}")
    return raw


def key_by_prefix(prefix: str | None) -> ApiKey | None:
    return ApiKey.objects.select_related("workspace").filter(prefix=prefix).first() if prefix else None


def check_key(raw: str, key: ApiKey | None) -> ApiKey:
    """``key`` if ``raw`` is its whole string and it is not revoked; otherwise ``CallRefused`` (401). No I/O."""
    if key is None or not matches(raw, key.secret_hash):
        raise unauthorized("authentication_failed", "This API key is not valid.")
    if key.revoked_at is not None:
        raise unauthorized("authentication_failed",
                           f"This API key ({key.prefix}) was revoked on {key.revoked_at:%Y-%m-%d %H:%M} UTC.")
    return key


def needs_touch(key: ApiKey) -> bool:
    return key.last_used_at is None or key.last_used_at < timezone.now() - LAST_USED_RESOLUTION


def touch(key: ApiKey) -> None:
    now = timezone.now()
    if not needs_touch(key):
        return  # fresh enough: no write at all on a busy key's hot path
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    if ApiKey.objects.filter(stale, pk=key.pk).update(last_used_at=now):
        key.last_used_at = now


class KeyCaller:
    """``request.user`` for a request made with an API key: authenticated, but not a person."""

    is_authenticated = True
    is_anonymous = False
    is_active = True

    def __init__(self, key: ApiKey):
        self.api_key = key
        self.pk = None

    def __str__(self) -> str:
        return f"api-key:{self.api_key.prefix}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """DRF authentication with a Bearer API key; other schemes fall through to the next class."""

    def authenticate(self, request: Any) -> tuple[KeyCaller, ApiKey] | None:
        header = request.META.get("HTTP_AUTHORIZATION")
        if bearer_token(header) is None:
            return None
        try:
            key = authenticate_api_key(header)
        except CallRefused as refused:
            raise exceptions.AuthenticationFailed(refused.message) from None
        return KeyCaller(key), key

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="patchbay"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "ApiKeyBearer"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return api_key_security_scheme()


def api_key_security_scheme() -> dict[str, Any]:
    return {"type": "http", "scheme": "bearer", "bearerFormat": "pbk_<prefix>_<secret>",
            "description": "An API key of the workspace, created under API keys. " + HOW_TO}
