"""Who may call which flow, and what it runs, without a database round trip per call: key and endpoint rows and
the endpoint's serving release cached per process.

A flow call used to read its key and its endpoint from PostgreSQL on every call
(a tenth of the web process's CPU at 8 clients). Here both rows are kept in
this process, tagged with a version number kept in Redis; any change to a key
or an endpoint (publish, roll back, unpublish, revoke, scopes, limits; model
signals plus the services' ``.update()`` writes), or a move of a release label
(which release an endpoint following that label serves) bumps the number when its
transaction commits, and a call whose cached rows carry an older number reads
them again. So a revoked key or an unpublished endpoint is refused from the
very next call, in every web process, as before. Entries also age out after
``MAX_AGE_S`` (a Redis that lost the number cannot keep a stale row longer),
and when Redis cannot answer the rows are read from the database every time.

The rules themselves stay where they are (``auth.check_key``,
``selectors.check_endpoint``); only where the rows come from changes.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from redis.exceptions import RedisError

from backend.config.redis_clients import sync_redis
from backend.releases.models import ReleaseLabel
from backend.releases.selectors import labelled_release

from .auth import check_key, key_by_prefix, presented_key, touch
from .keys import prefix_of
from .models import ApiKey, Endpoint
from .selectors import check_endpoint, endpoint_by_slug

if TYPE_CHECKING:
    from backend.releases.models import Release

VERSION_KEY = "patchbay:endpoints:call-cache:version"
MAX_AGE_S = 30.0
_MISSING = b"0"  # the version before any change was recorded

# prefix or slug -> (version, cached at, row); an endpoint with its serving release
_keys: dict[str, tuple[bytes, float, ApiKey | None]] = {}
_endpoints: dict[str, tuple[bytes, float, tuple[Endpoint | None, Release | None]]] = {}


def bump() -> None:
    """Tell every web process that cached keys and endpoints are stale (called on commit of a change)."""
    try:
        sync_redis().incr(VERSION_KEY)
    except RedisError:  # the readers cannot read the version either, so they go to the database
        pass


def bump_on_commit(**_: Any) -> None:
    transaction.on_commit(bump)


post_save.connect(bump_on_commit, sender=ApiKey, dispatch_uid="call_cache_key_saved")
post_delete.connect(bump_on_commit, sender=ApiKey, dispatch_uid="call_cache_key_deleted")
post_save.connect(bump_on_commit, sender=Endpoint, dispatch_uid="call_cache_endpoint_saved")
post_delete.connect(bump_on_commit, sender=Endpoint, dispatch_uid="call_cache_endpoint_deleted")
post_save.connect(bump_on_commit, sender=ReleaseLabel, dispatch_uid="call_cache_label_moved")
post_delete.connect(bump_on_commit, sender=ReleaseLabel, dispatch_uid="call_cache_label_deleted")


def _fresh(entry: tuple[bytes, float, Any] | None, version: bytes, now: float) -> bool:
    return entry is not None and entry[0] == version and now - entry[1] < MAX_AGE_S


def _read_rows(prefix: str | None, slug: str) -> tuple[ApiKey | None, tuple[Endpoint | None, Release | None]]:
    endpoint = endpoint_by_slug(slug)
    release = labelled_release(endpoint.graph_id, endpoint.label) if endpoint is not None else None
    return key_by_prefix(prefix), (endpoint, release)


def _version() -> bytes | None:
    """The cache's version in Redis, or None when Redis cannot answer (then the rows are read every time)."""
    try:
        raw = sync_redis().get(VERSION_KEY) or _MISSING
    except RedisError:
        return None
    return raw.encode() if isinstance(raw, str) else raw


def authorize(header: str | None, slug: str) -> tuple[ApiKey, Endpoint, Release | None]:
    """The key of an Authorization header, the live endpoint it may call and the release that endpoint serves
    (``releases.selectors.serving_release``; None for an endpoint that predates releases), or ``CallRefused``
    (401/403/404). Sync, on the endpoints' pool: a published call makes it part of its one database hop
    (admission.py), and reads the
    version with the sync client there (half the CPU of a ``redis.asyncio`` GET on the loop)."""
    raw = presented_key(header)
    prefix = prefix_of(raw)
    version = _version()
    now = time.monotonic()
    key_entry, endpoint_entry = _keys.get(prefix or ""), _endpoints.get(slug)
    if version is not None and _fresh(key_entry, version, now) and _fresh(endpoint_entry, version, now):
        assert key_entry is not None and endpoint_entry is not None
        key_row, (endpoint_row, release) = key_entry[2], endpoint_entry[2]
    else:
        # The version is read before the rows: a change committed meanwhile bumps past it, so it is read again.
        key_row, (endpoint_row, release) = _read_rows(prefix, slug)
        if version is not None:  # rows only: a miss is a refusal, and caching misses would let callers grow the dict
            if key_row is not None:
                _keys[prefix or ""] = (version, now, key_row)
            if endpoint_row is not None:
                _endpoints[slug] = (version, now, (endpoint_row, release))
    key = check_key(raw, key_row)
    endpoint = check_endpoint(key, slug, endpoint_row)
    touch(key)  # at most once per LAST_USED_RESOLUTION per key: no statement on a busy key's calls
    return key, endpoint, release

