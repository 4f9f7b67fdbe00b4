"""The advisor's hook for eval evidence: sources that say how a cheaper alias scores on a router's route.

The evals app registers a source (``register_route_eval_source``) that reads its held-out eval runs; until
then the cheaper-alias rule has no evidence and stays quiet.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from backend.graphs.models import Graph

from .advisor import RouteEvalEvidence

RouteEvalSource = Callable[[Graph], Sequence[RouteEvalEvidence]]
_sources: list[RouteEvalSource] = []


def register_route_eval_source(source: RouteEvalSource) -> RouteEvalSource:
    if source not in _sources:
        _sources.append(source)
    return source


def route_eval_evidence(graph: Graph) -> list[RouteEvalEvidence]:
    return [evidence for source in _sources for evidence in source(graph)]
