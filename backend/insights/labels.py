"""Writes: a person's label on a run or one of its steps (the correct route, pass/fail, a comment)."""
from __future__ import annotations

from typing import Any

from backend.config.errors import InvalidRequest
from backend.graphs.authz import Action, require
from backend.runs.models import Run

from .graph_shape import router_routes
from .models import RunLabel
from .records import DEFAULT_ROUTE

FIELDS = ("route", "verdict", "comment")
MAX_COMMENT = 5000


def _problems(run: Run, node_id: str, changes: dict[str, Any]) -> list[dict[str, str]]:
    nodes = {n["id"]: n for n in run.graph_version.spec.get("nodes", [])}
    if node_id and node_id not in nodes:
        return [{"path": "node_id", "message": f"the run's graph has no step '{node_id}'"}]
    problems = [{"path": key, "message": "expected text"} for key in FIELDS
                if key in changes and not isinstance(changes[key], str)]
    if problems:
        return problems
    route = changes.get("route")
    if route:
        node = nodes.get(node_id)
        if node is None or node.get("type") != "router":
            problems.append({"path": "route", "message": "only a router step has a route"})
        elif route not in (routes := [*router_routes(node), DEFAULT_ROUTE]):
            problems.append({"path": "route", "message": f"'{route}' is not one of {', '.join(routes)}"})
    if changes.get("verdict") not in (None, "", *RunLabel.Verdict.values):
        problems.append({"path": "verdict", "message": "expected 'pass', 'fail' or empty"})
    if len(changes.get("comment") or "") > MAX_COMMENT:
        problems.append({"path": "comment", "message": f"at most {MAX_COMMENT} characters"})
    return problems


def label_set(*, user: Any, run: Run, node_id: str, changes: dict[str, Any]) -> tuple[RunLabel, bool]:
    """Record (or change) the label of a run's step; fields left out keep their value. Returns (label, created)."""
    require(user, run.workspace_id, Action.RUN_LABEL)
    if not isinstance(node_id, str):
        raise InvalidRequest("Bad label.", [{"path": "node_id", "message": "expected a step id (or empty)"}])
    problems = _problems(run, node_id, changes)
    if problems:
        raise InvalidRequest("Bad label.", problems)
    values = {key: changes[key] for key in FIELDS if key in changes}
    label, created = RunLabel.objects.get_or_create(run=run, node_id=node_id,
                                                    defaults={**values, "created_by": user, "updated_by": user})
    if not created:
        for key, value in values.items():
            setattr(label, key, value)
        label.updated_by = user
        label.save()
    return label, created
