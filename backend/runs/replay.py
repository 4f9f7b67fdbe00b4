"""Replay a finished run: all of it (same input, same or another version), or from one node.

A replay of a run that ran a release (an endpoint call) on the same version runs that release too: its
pinned prompt versions, not where the prompts' labels point now (``_release_to_replay``).

From a node, the steps before it are not run again: their stored outputs (and
the port each fired, so a router's route holds) come from the original's node
spans and are handed to the engine as seeded steps. Only that node and what
depends on it call models; an override may change that one node's prompt or
model for the replay. ``compare`` lines the two runs up node by node.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from rest_framework import status

from backend.config.errors import InvalidRequest
from backend.engine.schedule import SKIPPED_NO_PATH
from backend.graphs.authz import Action, require

from .models import Run, Span
from .replay_plan import downstream
from .selectors import run_details_pruned
from .services import run_create

OVERRIDABLE = ("prompt", "model")  # what an override may change, on an llm node


class RunStillRunning(InvalidRequest):
    """409: a run is replayed once it has finished (its trace is what the replay reads)."""

    status_code = status.HTTP_409_CONFLICT


def run_replay(*, run: Run, user: Any, from_node: str | None = None, version: int | None = None,
               override: Mapping[str, Any] | None = None) -> Run:
    """Queue a replay of ``run``; it runs like any other run, with ``source`` "replay"."""
    require(user, run.workspace_id, Action.RUN_START)
    if not run.is_finished:
        raise RunStillRunning("The run has not finished; replay it once it has.",
                              [{"path": "run", "message": f"run {run.pk} is {run.status}"}], code="conflict")
    number = version or run.graph_version.number
    target = run.graph.versions.filter(number=number).first()
    if target is None:
        raise InvalidRequest("No such version.", [{"path": "version", "message": f"graph {run.graph_id} has no "
                                                   f"version {number}"}])
    nodes = {n["id"]: n for n in target.spec.get("nodes", [])}
    if from_node is not None and from_node not in nodes:
        raise InvalidRequest("No such node to replay from.", [{"path": "from_node", "message": f"version {number} "
                                                               f"has no node '{from_node}'"}])
    rerun = downstream(target.spec, from_node) if from_node else set(nodes)
    _check_override(override, nodes, rerun)
    if from_node:
        _check_stored(run, [n for n in nodes if n not in rerun], from_node)
    with transaction.atomic():  # the run is enqueued when this commits, with its replay fields set
        replay = run_create(graph=run.graph, user=user, input=run.input, version_number=number,
                            budget=run.budget or None, source="replay", release=_release_to_replay(run, target))
        replay.replay_of, replay.replay_from_node, replay.replay_override = run, from_node or "", dict(override or {})
        replay.save(update_fields=["replay_of", "replay_from_node", "replay_override"])
    return replay


def _release_to_replay(run: Run, target: Any) -> Any:
    """The release whose prompt pins the replay runs: the original's, when it ran one and the replay runs the
    same graph version. A replay reproduces what was served, not what a prompt label points at today (an endpoint
    call ran its release's pinned prompt versions, and labels move on). On another version the original's
    release does not describe the graph that runs: its references resolve by today's labels, like a new run's."""
    release = run.release
    return release if release is not None and release.version_id == target.pk else None


def _check_stored(run: Run, kept: list[str], from_node: str) -> None:
    """Every step the replay does not run must have ended in the original: succeeded (its output is
    seeded) or skipped by a decision (it is skipped again); a step that never ran there would run now."""
    if run_details_pruned(run.pk):
        raise RunStillRunning("This run's stored outputs were pruned by retention; replay all of it instead.",
                              [{"path": "from_node", "message": "the original's step outputs are gone"}],
                              code="conflict")
    ended = {s.node_id for s in Span.objects.filter(run=run, kind="node", parent_id="")
             if s.status == "succeeded" or (s.status == "skipped" and (s.attributes or {}).get(
                 "patchbay.skip_reason") == SKIPPED_NO_PATH)}
    missing = [n for n in kept if n not in ended]  # in document order
    if missing:
        raise InvalidRequest("The steps before this node did not all finish in the original.", [{
            "path": "from_node", "message": f"'{from_node}' needs the stored outputs of {', '.join(missing)}, "
            "which did not finish in that run; replay from an earlier step"}])


def _check_override(override: Mapping[str, Any] | None, nodes: Mapping[str, Any], rerun: set[str]) -> None:
    if not override:
        return
    node_id = str(override.get("node") or "")
    problems = []
    if node_id not in nodes or nodes[node_id].get("type") != "llm":
        problems.append({"path": "override.node", "message": f"'{node_id}' is not an llm node of this version"})
    elif node_id not in rerun:
        problems.append({"path": "override.node", "message": f"'{node_id}' runs before the replayed node; "
                         "its stored output is used"})
    if not any(override.get(k) for k in OVERRIDABLE):
        problems.append({"path": "override", "message": "give a prompt or a model to change"})
    if problems:
        raise InvalidRequest("The override has problems; no run was started.", problems)


def compare(original: Run, replay: Run) -> dict[str, Any]:
    """The two runs side by side: per node output, status, cost and time, and the totals' deltas."""
    mine, theirs = _node_spans(original.spans.all()), _node_spans(replay.spans.all())
    order = list(mine) + [n for n in theirs if n not in mine]
    nodes = []
    for node_id in order:
        a, b = mine.get(node_id), theirs.get(node_id)
        nodes.append({"node_id": node_id, "original": _side(a), "replay": _side(b),
                      "changed": (a.output if a else None) != (b.output if b else None)})
    return {
        "original": str(original.pk), "replay": str(replay.pk), "from_node": replay.replay_from_node or None,
        "override": replay.replay_override or None, "nodes": nodes,
        "output": {"original": original.output, "replay": replay.output, "changed": original.output != replay.output},
        "totals": {key: _delta(getattr(original, attr), getattr(replay, attr))
                   for key, attr in (("cost_usd", "cost_usd"), ("engine_ms", "latency_ms"), ("llm_calls", "llm_calls"))},
    }


def _node_spans(spans: Iterable[Span]) -> dict[str, Span]:
    return {s.node_id: s for s in spans if s.kind == "node" and not s.parent_id}


def _side(span: Span | None) -> dict[str, Any] | None:
    if span is None:
        return None
    return {"status": span.status, "output": span.output, "cost_usd": span.cost_usd, "duration_ms": span.duration_ms,
            "seeded": bool((span.attributes or {}).get("patchbay.seeded"))}


def _delta(a: float | None, b: float | None) -> dict[str, Any]:
    return {"original": a, "replay": b, "delta": None if a is None or b is None else round(b - a, 10)}
