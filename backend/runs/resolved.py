"""What a run resolved when it started: the exact prompt versions and model routes, kept on the run.

Prompts are named ``name@label`` (or pinned ``name@3``) and models by alias; labels move and aliases
are remapped, so the names alone do not say what ran. ``Run.resolved`` does:

    {"prompts": {"greeting@production": "greeting@3"},
     "models":  {"fast": "openai/gpt-4o-mini", "cheap": "openai/gpt-4o-nano"}}

``models`` holds every alias a step names and every fallback alias behind it (an alias that no longer
exists maps to null: the run says so at its step).

Replay and compare read it. It never holds a provider key or an ``api_base`` (those are the
registry's, and may carry secrets).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from backend.engine.ports import LLMError
from backend.engine.types import PromptTemplate
from backend.providers.registry import route_now
from backend.providers.routes import ModelRoute


def model_aliases_in(value: Any) -> set[str]:
    """Every step's model alias anywhere in a spec (pattern nodes nest their steps; subgraphs passed apart)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, sub in value.items():
            if key == "model" and isinstance(sub, str):
                found.add(sub)
            else:
                found |= model_aliases_in(sub)
    elif isinstance(value, list):
        for sub in value:
            found |= model_aliases_in(sub)
    return found


def _add_route(models: dict[str, str | None], route: ModelRoute) -> None:
    models.setdefault(route.alias, route.model)
    for fallback in route.fallbacks:
        _add_route(models, fallback)


def resolved_for(spec: Any, subgraphs: Mapping[str, Any], prompts: Mapping[str, PromptTemplate]) -> dict[str, Any]:
    """The prompt versions and model routes a run of ``spec`` resolves now."""
    docs: Iterable[Any] = [spec, *subgraphs.values()]
    aliases: set[str] = set()
    for doc in docs:
        aliases |= model_aliases_in(doc)
    models: dict[str, str | None] = {}
    for alias in sorted(aliases):
        try:
            _add_route(models, route_now(alias))  # cached per registry version
        except LLMError:  # an alias removed since the version was saved: the run will say so at its step
            models[alias] = None
    return {"prompts": {ref: p.version_id for ref, p in sorted(prompts.items())},
            "models": dict(sorted(models.items()))}
