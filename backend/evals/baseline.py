"""The baseline a graph's candidates are measured against: the release behind ``production``."""
from __future__ import annotations

from backend.graphs.models import Graph, GraphVersion
from backend.releases.models import ReleaseLabel
from backend.releases.services import PRODUCTION


def baseline_for_graph(graph: Graph) -> GraphVersion | None:
    """The graph version of the release ``production`` points at (what endpoints serve); None before a publish."""
    label = ReleaseLabel.objects.filter(graph=graph, name=PRODUCTION).select_related("release__version").first()
    return label.release.version if label is not None else None
