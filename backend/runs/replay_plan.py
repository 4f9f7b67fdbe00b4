"""What a claimed replay runs: its spec (with the override) and the steps seeded from the original's spans.

Kept apart from replay.py (the API's service) so the worker's claim imports only models and the engine.
"""
from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from backend.engine import SeededStep

from .models import Run, Span


def downstream(spec: Mapping[str, Any], start: str) -> set[str]:
    """``start`` and every node reachable from it along the edges."""
    outgoing: dict[str, list[str]] = {}
    for edge in spec.get("edges", []):
        outgoing.setdefault(edge["from"], []).append(edge["to"])
    seen, stack = {start}, [start]
    while stack:
        for target in outgoing.get(stack.pop(), []):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def replay_plan(run: Run, spec: dict[str, Any]) -> tuple[dict[str, Any], dict[str, SeededStep]]:
    """For a claimed replay: the spec to run (with its override) and the steps seeded from the original."""
    if run.replay_override:
        spec = _with_override(spec, run.replay_override)
    if not run.replay_from_node or run.replay_of_id is None:
        return spec, {}
    rerun = downstream(spec, run.replay_from_node)
    ids = {n["id"] for n in spec.get("nodes", [])}
    stored = Span.objects.filter(run_id=run.replay_of_id, kind="node", parent_id="", status="succeeded")
    seeds = {s.node_id: SeededStep(s.output, (s.attributes or {}).get("patchbay.port"))
             for s in stored if s.node_id in ids and s.node_id not in rerun}
    return spec, seeds


def _with_override(spec: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    if override.get("prompt_refs"):  # an eval of a candidate prompt version: {"greet": "greet@4"}
        _repin(spec, override["prompt_refs"])
    for node in spec.get("nodes", []):
        if node["id"] == override.get("node"):
            config = node.setdefault("config", {})
            if override.get("prompt"):
                config.pop("prompt_ref", None)  # the replay's own words replace a saved prompt
                config["prompt"] = override["prompt"]
            if override.get("model"):
                config["model"] = override["model"]
    return spec


def _repin(value: Any, refs: Mapping[str, str]) -> None:
    """Point every ``prompt_ref`` naming one of ``refs``' prompts (any label or version) at the given ref."""
    if isinstance(value, dict):
        ref = value.get("prompt_ref")
        if isinstance(ref, str) and ref.partition("@")[0] in refs:
            value["prompt_ref"] = refs[ref.partition("@")[0]]
        for sub in value.values():
            _repin(sub, refs)
    elif isinstance(value, list):
        for sub in value:
            _repin(sub, refs)
