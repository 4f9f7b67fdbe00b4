"""Alias → route, from the database with the built-in demo aliases underneath.

Every model call asks for its route, so flipping a kill switch takes effect on
the very next call, in every worker. To keep that cheap, routes are cached per
process against a registry version number kept in Redis: any change to an
alias bumps the number (a signal on save and delete), and a call whose cached
route carries the current number skips the database.
"""
from __future__ import annotations

import os
from typing import Any

from asgiref.sync import sync_to_async
from redis.exceptions import RedisError

from backend.config.redis_clients import async_redis, sync_redis
from backend.engine.ports import LLMError

from .breaker import policy_from
from .defaults import DEFAULT_ROUTES
from .models import ModelAlias
from .routes import ModelRoute
from .secrets import decrypt_secret

MAX_FALLBACK_DEPTH = 3


def _per_token(per_million: float | None) -> float | None:
    return None if per_million is None else per_million / 1_000_000


def _api_key(row: ModelAlias) -> str | None:
    if row.api_key_env:
        return os.environ.get(row.api_key_env)
    return decrypt_secret(row.api_key_encrypted) if row.api_key_encrypted else None


def _from_row(row: ModelAlias, rows: dict[str, ModelAlias], seen: frozenset[str]) -> ModelRoute:
    fallbacks = []
    if len(seen) < MAX_FALLBACK_DEPTH:
        for name in row.fallbacks or []:
            if name in seen:
                continue  # a loop of fallbacks is cut, not followed
            if name in rows:
                fallbacks.append(_from_row(rows[name], rows, seen | {name}))
            elif name in DEFAULT_ROUTES:
                fallbacks.append(DEFAULT_ROUTES[name])
    return ModelRoute(
        alias=row.alias,
        model=row.model,
        api_base=row.api_base or None,
        api_key=_api_key(row),
        enabled=row.enabled,
        fallbacks=tuple(fallbacks),
        max_retries=row.max_retries,
        timeout_s=row.timeout_s,
        input_cost_per_token=_per_token(row.input_cost_per_mtok),
        output_cost_per_token=_per_token(row.output_cost_per_mtok),
        demo_latency_ms=row.demo_latency_ms,
        breaker=policy_from(row.breaker_failures, row.breaker_window_s, row.breaker_cooldown_s),
        demo_tokens_per_s=row.demo_tokens_per_s,
    )


def route_for(alias: str) -> ModelRoute:
    row = ModelAlias.objects.filter(alias=alias).first()
    if row is not None:
        # Fallback rows are read only when the alias has fallbacks (most calls: one indexed query).
        rows = {r.alias: r for r in ModelAlias.objects.all()} if row.fallbacks else {alias: row}
        return _from_row(row, rows, frozenset({alias}))
    if alias in DEFAULT_ROUTES:
        return DEFAULT_ROUTES[alias]
    raise LLMError(f"unknown model alias '{alias}'", kind="unknown_model")


VERSION_KEY = "patchbay:model-registry:version"
_cached: dict[str, tuple[bytes | str | None, ModelRoute]] = {}


def bump_registry_version() -> None:
    """Tell every process that cached routes are stale (called when an alias changes)."""
    sync_redis().incr(VERSION_KEY)


async def resolve_route(alias: str) -> ModelRoute:
    try:
        version = await async_redis().get(VERSION_KEY)
    except RedisError:
        version = None  # no Redis, no cache: read the database every time
    hit = _cached.get(alias)
    if hit is not None and version is not None and hit[0] == version:
        return hit[1]
    route = await sync_to_async(route_for, thread_sensitive=False)(alias)
    if version is not None:
        _cached[alias] = (version, route)
    return route


def route_now(alias: str) -> ModelRoute:
    """``route_for`` through the same per-process cache as ``resolve_route``, for synchronous callers.

    The claim records every alias a run names (runs/resolved.py): with the cache that is a Redis GET per alias
    instead of a database statement; the answer is the database's while the version stands.
    """
    try:
        version = sync_redis().get(VERSION_KEY)
    except RedisError:
        version = None
    hit = _cached.get(alias)
    if hit is not None and version is not None and hit[0] == version:
        return hit[1]
    route = route_for(alias)
    if version is not None:
        _cached[alias] = (version, route)
    return route


def known_aliases() -> set[str]:
    return set(DEFAULT_ROUTES) | set(ModelAlias.objects.values_list("alias", flat=True))


def alias_catalogue() -> list[dict[str, Any]]:
    """Every alias with its price and switch, for the canvas's model picker."""
    rows = {r.alias: r for r in ModelAlias.objects.all()}
    names = sorted(set(DEFAULT_ROUTES) | set(rows))
    result = []
    for name in names:
        route = _from_row(rows[name], rows, frozenset({name})) if name in rows else DEFAULT_ROUTES[name]
        result.append({
            "alias": name,
            "model": route.model,
            "demo": route.is_demo,
            "enabled": route.enabled,
            "fallbacks": [f.alias for f in route.fallbacks],
            "input_cost_per_mtok": None if route.input_cost_per_token is None else route.input_cost_per_token * 1e6,
            "output_cost_per_mtok": None if route.output_cost_per_token is None else route.output_cost_per_token * 1e6,
            "description": rows[name].description if name in rows else "Built-in demo model (offline)",
            "has_api_key": rows[name].has_api_key if name in rows else False,
            "api_base": route.api_base or "",
            "max_retries": route.max_retries,
            "timeout_s": route.timeout_s,
            "breaker": None if route.breaker is None else vars(route.breaker),
        })
    return result
