"""Reads: a graph's releases and labels, and the release an endpoint serves."""
from __future__ import annotations

from typing import Any

from django.http import Http404

from backend.config.params import MAX_INT, whole_number
from backend.graphs.models import Graph, GraphVersion

from .models import LabelMove, Release, ReleaseLabel


def labelled_release(graph: Graph | int, label: str) -> Release | None:
    pointer = ReleaseLabel.objects.filter(graph=graph, name=label).select_related("release__version").first()
    return pointer.release if pointer is not None else None


def serving_release(endpoint: Any, version: GraphVersion | None = None) -> Release | None:
    """What a call to ``endpoint`` runs: the release its label points at, or, for a call naming one of the
    versions it served (``slug@3``), the newest release of that version. None only for endpoints that
    predate releases and were never migrated (they run the version's prompts as labelled now)."""
    if version is not None and version.pk != endpoint.version_id:
        return Release.objects.filter(graph_id=endpoint.graph_id, version=version).select_related("version").first()
    return labelled_release(endpoint.graph_id, endpoint.label)


def release_get(graph: Graph, number: Any, path: str = "release") -> Release:
    """A release of the graph by its number (``graph-relative``), or a 404 naming it."""
    value = whole_number(str(number))
    release = (Release.objects.filter(graph=graph, number=value).select_related("version", "created_by").first()
               if value is not None and value <= MAX_INT else None)
    if release is None:
        raise Http404(f"Graph {graph.pk} has no release {number} ({path})")
    return release


def releases_of(graph: Graph) -> list[Release]:
    return list(Release.objects.filter(graph=graph).select_related("version", "created_by")
                .prefetch_related("labels").order_by("-number"))


def labels_of(graph: Graph) -> list[ReleaseLabel]:
    return list(ReleaseLabel.objects.filter(graph=graph).select_related("release__version", "moved_by").order_by("name"))


def moves_of(graph: Graph, limit: int = 200) -> list[LabelMove]:
    return list(LabelMove.objects.filter(graph=graph).select_related("from_release", "to_release", "actor")
                [:limit])
