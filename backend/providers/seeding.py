"""Load fixtures/models.json into the registry (idempotent: re-running updates, never duplicates)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .models import ModelAlias

ALIAS_FIELDS = ("model", "api_base", "api_key_env", "enabled", "fallbacks", "max_retries", "timeout_s",
                "input_cost_per_mtok", "output_cost_per_mtok", "demo_latency_ms", "demo_tokens_per_s", "description")


def seed_model_aliases(path: Path, environ: dict[str, str] | None = None) -> list[str]:
    """Create or update the default aliases; a provider key in the environment swaps demo for real models."""
    environ = dict(os.environ) if environ is None else environ
    doc: dict[str, Any] = json.loads(path.read_text())
    aliases = {a["alias"]: dict(a) for a in doc["aliases"]}
    for env_name, overrides in doc.get("provider_keys", {}).items():
        if environ.get(env_name):
            for override in overrides:
                entry = aliases.setdefault(override["alias"], {"alias": override["alias"]})
                entry.update(override)
                entry["demo_latency_ms"] = 0
                entry["demo_tokens_per_s"] = 0
                entry.pop("input_cost_per_mtok", None)  # real models take litellm's prices
                entry.pop("output_cost_per_mtok", None)
                entry["description"] = f"{override['model']} (key from {env_name})"
            break
    for name, entry in aliases.items():
        defaults = {k: entry[k] for k in ALIAS_FIELDS if k in entry}
        defaults.setdefault("input_cost_per_mtok", None)
        defaults.setdefault("output_cost_per_mtok", None)
        ModelAlias.objects.update_or_create(alias=name, defaults=defaults)
    return sorted(aliases)
