"""What an eval may try instead of the version as saved: a candidate prompt version, or another model for one step.

Either is stored on ``EvalRun.candidate`` and reaches the engine through the run's override (the same field a
replay uses, applied by ``runs/replay_plan.py`` when the worker claims the run), so the engine never learns
that an eval is running:

- ``{"name": "greet", "ref": "greet@4"}``: every step naming prompt "greet" runs version 4;
- ``{"node": "technical_reply", "model": "fast", "was": "frontier"}``: that llm step calls alias "fast" instead
  of the "frontier" it names in the version.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backend.config.errors import InvalidRequest
from backend.graphs.models import Graph, GraphVersion, PromptVersion
from backend.graphs.selectors import prompt_refs_in
from backend.providers.models import ModelAlias
from backend.providers.registry import known_aliases

MODEL_FIELD = "candidate_model"


def candidate_for(graph: Graph, version: GraphVersion, ref: str) -> dict[str, Any]:
    """``{"name", "ref"}`` for a candidate prompt version ``name@N`` the version uses; 400 otherwise."""
    name, _, number = ref.partition("@")
    exists = number.isdigit() and PromptVersion.objects.filter(prompt__workspace_id=graph.workspace_id,
                                                               prompt__name=name, number=int(number)).exists()
    if not exists:
        raise InvalidRequest("No such prompt version.", [{"path": "candidate_prompt", "message": f"'{ref}' is not a "
                                                          "saved prompt version (write name@number)"}])
    used = {r.partition("@")[0] for r in prompt_refs_in(version.spec)}
    if name not in used:
        raise InvalidRequest("The graph does not use that prompt.", [{"path": "candidate_prompt", "message":
                                                                      f"version {version.number} has no step using "
                                                                      f"prompt '{name}'"}])
    return {"name": name, "ref": f"{name}@{int(number)}"}


def _refuse(path: str, message: str) -> InvalidRequest:
    return InvalidRequest("The model to try has problems; nothing was started.", [{"path": path, "message": message}])


def model_candidate_for(version: GraphVersion, value: Any) -> dict[str, Any]:
    """``{"node", "model", "was"}`` for ``{"node": <llm step id>, "model": <alias>}``; 400 naming the field."""
    if not isinstance(value, Mapping):
        raise _refuse(MODEL_FIELD, 'expected {"node": "<step id>", "model": "<model alias>"}')
    node_id, alias = value.get("node"), value.get("model")
    if not isinstance(node_id, str) or not node_id:
        raise _refuse(f"{MODEL_FIELD}.node", "the id of the step whose model to change")
    if not isinstance(alias, str) or not alias:
        raise _refuse(f"{MODEL_FIELD}.model", "the model alias to try")
    unknown = sorted(set(value) - {"node", "model"})
    if unknown:
        raise _refuse(f"{MODEL_FIELD}.{unknown[0]}", "not a field here (give node and model)")
    node = next((n for n in version.spec.get("nodes", []) if n.get("id") == node_id), None)
    if node is None:
        raise _refuse(f"{MODEL_FIELD}.node", f"version {version.number} has no step '{node_id}'")
    if node.get("type") != "llm":
        raise _refuse(f"{MODEL_FIELD}.node", f"'{node_id}' is a {node.get('type')} step; only a model step (llm) "
                                             "can try another model")
    if alias not in known_aliases():
        raise _refuse(f"{MODEL_FIELD}.model", f"'{alias}' is not a model alias (see the Models page)")
    if ModelAlias.objects.filter(alias=alias, enabled=False).exists():
        raise _refuse(f"{MODEL_FIELD}.model", f"'{alias}' is switched off")
    was = str((node.get("config") or {}).get("model") or "")
    if alias == was:
        raise _refuse(f"{MODEL_FIELD}.model", f"'{node_id}' already uses '{alias}'")
    return {"node": node_id, "model": alias, "was": was}


def override_for(candidate: Mapping[str, Any]) -> dict[str, Any]:
    """The run override that makes a run of the version run the candidate ({} for none)."""
    if candidate.get("ref"):
        return {"prompt_refs": {candidate["name"]: candidate["ref"]}}
    if candidate.get("model"):
        return {"node": candidate["node"], "model": candidate["model"]}
    return {}
