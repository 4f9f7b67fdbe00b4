"""What an audited thing looks like, as JSON for an entry's before/after: the fields a reader needs to see
what changed, and never key material (an API key is its public prefix; a provider key is only "stored" or not).

Pure functions of model instances (no queries beyond related rows already at hand), so services can take a
snapshot before a change and another after it.
"""
from __future__ import annotations

from typing import Any

from .services import Target

# --------------------------------------------------------------------------- endpoints


def endpoint_target(endpoint: Any) -> Target:
    return Target("endpoint", endpoint.pk, endpoint.slug)


def endpoint_state(endpoint: Any) -> dict[str, Any]:
    version = endpoint.version
    return {"version": version.number if version is not None else None,
            "status": "live" if endpoint.enabled and version is not None else "off",
            "graph": endpoint.graph.name}


# --------------------------------------------------------------------------- API keys


def api_key_target(key: Any) -> Target:
    return Target("api_key", key.pk, f"{key.name} ({key.prefix})")


def api_key_state(key: Any) -> dict[str, Any]:
    return {"name": key.name, "prefix": key.prefix, "scopes": list(key.scopes or []),
            "rate_limit_per_minute": key.rate_limit_per_minute, "daily_max_cost_usd": key.daily_max_cost_usd,
            "revoked": key.revoked_at is not None}


# --------------------------------------------------------------------------- prompts


def prompt_target(prompt: Any) -> Target:
    return Target("prompt", prompt.pk, prompt.name)


def label_state(label: str, version: Any) -> dict[str, Any] | None:
    return None if version is None else {"label": label, "version": version.number}


# --------------------------------------------------------------------------- retention


def workspace_target(workspace: Any) -> Target:
    return Target("workspace", workspace.pk, workspace.name)


def retention_state(workspace: Any) -> dict[str, Any]:
    """The workspace's own windows (null: the deployment's default at the time of reading)."""
    return {"event_days": workspace.retention_event_days, "run_days": workspace.retention_run_days}


def spend_cap_state(workspace: Any) -> dict[str, Any]:
    return {"monthly_cap_usd": workspace.monthly_cap_usd, "warn_at_fraction": workspace.warn_at_fraction}


# --------------------------------------------------------------------------- model registry (deployment-wide)


def model_target(row: Any) -> Target:
    return Target("model", row.alias, row.alias)


def model_state(row: Any, *, new_key: bool = False) -> dict[str, Any]:
    if new_key:
        key = "new key stored"
    elif row.api_key_encrypted:
        key = "stored"
    elif row.api_key_env:
        key = f"from ${row.api_key_env}"
    else:
        key = "none"
    return {"model": row.model, "enabled": row.enabled, "fallbacks": list(row.fallbacks or []),
            "api_base": row.api_base, "api_key_status": key, "max_retries": row.max_retries,
            "timeout_s": row.timeout_s, "input_cost_per_mtok": row.input_cost_per_mtok,
            "output_cost_per_mtok": row.output_cost_per_mtok, "demo_latency_ms": row.demo_latency_ms,
            "description": row.description, "breaker_failures": row.breaker_failures,
            "breaker_window_s": row.breaker_window_s, "breaker_cooldown_s": row.breaker_cooldown_s}


def model_action(before: dict[str, Any] | None, after: dict[str, Any]) -> str:
    """The kill switch gets its own action so it can be found by filter; other changes are updates."""
    if before is None:
        return "model.created"
    if before["enabled"] and not after["enabled"]:
        return "model.switched_off"
    if not before["enabled"] and after["enabled"]:
        return "model.switched_on"
    return "model.updated"


# --------------------------------------------------------------------------- members (called by authz)


def member_target(membership: Any) -> Target:
    return Target("member", membership.user_id, membership.user.get_username())


def member_state(membership: Any) -> dict[str, Any]:
    return {"role": membership.role}
