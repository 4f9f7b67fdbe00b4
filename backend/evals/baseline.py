"""The baseline a graph's candidates are measured against: the one function to rewire when releases land.

Today it is the version the graph's published endpoint serves; with releases (issue 13) it becomes the release
behind ``production``.
"""
from __future__ import annotations

from backend.endpoints.models import Endpoint
from backend.graphs.models import Graph, GraphVersion


def baseline_for_graph(graph: Graph) -> GraphVersion | None:
    endpoint = (Endpoint.objects.filter(graph=graph, enabled=True, version__isnull=False)
                .select_related("version").order_by("-pk").first())
    return endpoint.version if endpoint is not None else None
