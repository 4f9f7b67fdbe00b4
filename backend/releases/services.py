"""Writes: make releases and move release labels. ``release_label_move`` is the one way a label moves.

Issue 14's eval gate stands in front of ``production``: it belongs in ``release_label_move``, before the
write, so that every path that changes what live traffic runs (the Releases view, endpoint publish and
rollback, a followed prompt label) passes it.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.db import transaction

from backend.audit.services import Target, audit_record
from backend.config.errors import InvalidRequest
from backend.graphs.authz import Action, label_action, require
from backend.graphs.models import Graph, GraphVersion

from .models import LabelMove, Release, ReleaseLabel
from .signals import label_moved
from .snapshot import snapshot

LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$")
PRODUCTION = "production"

# What stands in front of ``production`` (the evals app registers its gate, evals/apps.py): called with the user,
# the graph, the target release and an admin's override reason; it raises to refuse the move.
LabelGate = Callable[..., None]
_PRODUCTION_GATES: list[LabelGate] = []
# Moves a gate judges: a publish and a move in the Releases view. A rollback returns to what served before (an
# emergency must not wait on an eval), and a followed prompt label has its own evals (evals/triggers.py).
GATED_REASONS = (LabelMove.Reason.PUBLISHED, LabelMove.Reason.MOVED)


def register_production_gate(gate: LabelGate) -> None:
    if gate not in _PRODUCTION_GATES:
        _PRODUCTION_GATES.append(gate)


def check_label(label: Any, path: str = "label") -> str:
    if not isinstance(label, str) or not LABEL.match(label):
        raise InvalidRequest("Bad label.", [{"path": path, "message": "1 to 50 lowercase letters, digits and "
                                             "hyphens, starting and ending with a letter or digit"}])
    return label


def release_for_version(*, user: Any, version: GraphVersion, note: str = "",
                        reason: str = Release.Reason.PUBLISHED, cause: dict[str, Any] | None = None) -> Release:
    """The release of ``version`` with the prompt versions its references resolve to now: the newest
    existing release with exactly that content, or a new one numbered next for the graph."""
    prompts, models, digest = snapshot(version)
    existing = Release.objects.filter(graph_id=version.graph_id, content_hash=digest).order_by("-number").first()
    if existing is not None:
        return existing
    # Lock the graph row: two concurrent publishes must not take the same number.
    Graph.objects.select_for_update().filter(pk=version.graph_id).first()
    last = Release.objects.filter(graph_id=version.graph_id).order_by("-number").first()
    return Release.objects.create(graph_id=version.graph_id, number=(last.number if last else 0) + 1,
                                  version=version, prompts=prompts, model_settings=models, content_hash=digest,
                                  reason=reason, cause=cause or {}, note=note[:500], created_by=user)


def _label_state(label: str, release: Release | None) -> dict[str, Any] | None:
    if release is None:
        return None
    return {"label": label, "release": release.number, "version": release.version.number,
            "prompts": release.prompts}


@transaction.atomic
def release_label_move(*, user: Any, graph: Graph, label: str, release: Release, note: str = "",
                       reason: str = LabelMove.Reason.MOVED, override_reason: str = "") -> LabelMove | None:
    """Point ``label`` of ``graph`` at ``release`` and record the move; None when it points there already.

    Moving ``production`` changes what every endpoint following it serves on its next call, so it needs the
    role that publishes (graphs/authz.py); other labels need an editor. A publish or a move of ``production``
    passes the registered gates first (the eval gate: 409 unless an admin gives ``override_reason``).
    """
    check_label(label)
    require(user, graph.workspace, label_action(label))
    if release.graph_id != graph.pk:
        raise InvalidRequest("That release is of another graph.", [{"path": "release", "message":
                                                                     f"release {release.pk} is not of graph {graph.pk}"}])
    current = ReleaseLabel.objects.select_for_update().filter(graph=graph, name=label).select_related(
        "release__version").first()
    if current is not None and current.release_id == release.pk:
        return None
    if label == PRODUCTION and reason in GATED_REASONS:
        for gate in _PRODUCTION_GATES:
            gate(user=user, graph=graph, release=release, override_reason=override_reason)
    previous = current.release if current is not None else None
    ReleaseLabel.objects.update_or_create(graph=graph, name=label, defaults={"release": release, "moved_by": user})
    move = LabelMove.objects.create(graph=graph, label=label, from_release=previous, to_release=release,
                                    reason=reason, note=note[:500], actor=user)
    label_moved.send(sender=ReleaseLabel, graph=graph, label=label, release=release)
    if reason in (LabelMove.Reason.PUBLISHED, LabelMove.Reason.ROLLED_BACK):
        return move  # the endpoint's publish or rollback is audited as such (endpoints/services.py)
    audit_record(actor=user, workspace=graph.workspace, action="release.label_moved",
                 target=Target("graph", graph.pk, graph.name), before=_label_state(label, previous),
                 after={**(_label_state(label, release) or {}), "reason": reason, **({"note": note} if note else {})})
    return move


@transaction.atomic
def release_create(*, user: Any, graph: Graph, version_number: int | None, note: str = "") -> Release:
    """A release of a saved version (default: the latest) as its prompt labels resolve now."""
    require(user, graph.workspace, Action.GRAPH_CHANGE)
    version = graph.latest_version if version_number is None else graph.versions.filter(number=version_number).first()
    if version is None:
        raise InvalidRequest("No such version.", [{"path": "version", "message": f"graph {graph.pk} has no version "
                                                   f"{version_number}" if version_number else "the graph has no "
                                                   "saved version"}])
    return release_for_version(user=user, version=version, note=note, reason=Release.Reason.CREATED)
