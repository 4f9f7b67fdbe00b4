"""What a release pins, read from storage when it is made.

Prompts pin: every ``name@label`` reference resolves to the exact version it points at now, and the
release keeps that version however the label moves later (a move of a label the graph follows makes a
new release instead, follow.py).

Model settings are recorded, not pinned. An alias is the operator's handle on a provider: its kill switch,
its circuit breaker, its key and a remap to another model in an incident must reach every release at once,
old ones included, or rolling back would also roll back a switch someone turned off on purpose. So a run
resolves aliases live (providers/registry.py) and a release keeps a snapshot of what each alias meant when
it was made (model, price, timeout, retries, fallback order), which the diff compares and ``Run.resolved``
records per run. The snapshot never holds a key or an ``api_base`` (it may carry credentials).
"""
from __future__ import annotations

from typing import Any

from backend.engine.canonical import canonical_hash
from backend.engine.ports import LLMError
from backend.graphs.models import GraphVersion
from backend.graphs.selectors import dependencies
from backend.providers.registry import route_for
from backend.providers.routes import ModelRoute
from backend.runs.resolved import model_aliases_in


def _settings(route: ModelRoute) -> dict[str, Any]:
    return {"model": route.model, "timeout_s": route.timeout_s, "max_retries": route.max_retries,
            "input_cost_per_token": route.input_cost_per_token,
            "output_cost_per_token": route.output_cost_per_token,
            "fallbacks": [f.alias for f in route.fallbacks]}


def _add(models: dict[str, Any], route: ModelRoute) -> None:
    if route.alias not in models:
        models[route.alias] = _settings(route)
        for fallback in route.fallbacks:
            _add(models, fallback)


def model_settings(spec: Any, subgraphs: dict[str, Any]) -> dict[str, Any]:
    aliases: set[str] = set()
    for doc in [spec, *subgraphs.values()]:
        aliases |= model_aliases_in(doc)
    models: dict[str, Any] = {}
    for alias in sorted(aliases):
        try:
            _add(models, route_for(alias))
        except LLMError:
            models[alias] = None  # an alias removed since the version was saved
    return dict(sorted(models.items()))


def snapshot(version: GraphVersion) -> tuple[dict[str, str], dict[str, Any], str]:
    """(prompts, models, content hash) of a release of ``version`` made now."""
    deps = dependencies(version.graph.workspace, version.spec)
    prompts = {ref: p.version_id for ref, p in sorted(deps.prompts.items()) if p.version_id}
    models = model_settings(version.spec, deps.subgraphs)
    return prompts, models, canonical_hash({"version": version.pk, "prompts": prompts})
