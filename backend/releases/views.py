"""The releases API: a graph's releases and labels, what a move would change, and the move itself."""
from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.config.api import ErrorOut, parse
from backend.config.errors import InvalidRequest
from backend.graphs.models import Graph
from backend.graphs.selectors import graph_get

from . import serializers as s
from .diff import release_changes
from .selectors import labelled_release, labels_of, moves_of, release_get, releases_of
from .services import check_label, release_create, release_label_move

ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


def _numbered(graph: Graph, request: Request, name: str) -> Any:
    value = request.query_params.get(name)
    if value is None or value == "":
        raise InvalidRequest(f"Say which release: ?{name}=<release number>.",
                             [{"path": name, "message": "required: a release number of this graph"}])
    if not value.isdigit():
        raise InvalidRequest("A release number is a whole number.", [{"path": name, "message": f"'{value[:40]}' is "
                                                                      "not a release number"}])
    return release_get(graph, value, name)


class ReleaseListView(APIView):
    @extend_schema(operation_id="releases_list", responses={200: s.ReleasesOut, 404: ErrorOut})
    def get(self, request: Request, graph_id: int) -> Response:
        graph = graph_get(request.user, graph_id)
        labels = labels_of(graph)
        by_release: dict[int, list[str]] = {}
        for label in labels:
            by_release.setdefault(label.release_id, []).append(label.name)
        return Response({"releases": [s.release_out(r, by_release.get(r.pk, [])) for r in releases_of(graph)],
                         "labels": [s.label_out(label) for label in labels],
                         "moves": [s.move_out(m) for m in moves_of(graph)]})

    @extend_schema(operation_id="releases_create", request=s.ReleaseCreateInput,
                   responses={201: s.ReleaseOut, **ERRORS})
    def post(self, request: Request, graph_id: int) -> Response:
        graph = graph_get(request.user, graph_id)
        data = parse(s.ReleaseCreateInput, request)
        release = release_create(user=request.user, graph=graph, version_number=data.get("version"),
                                 note=data["note"])
        return Response(s.release_out(release), status=status.HTTP_201_CREATED)


class ReleaseDetailView(APIView):
    @extend_schema(operation_id="releases_get", responses={200: s.ReleaseOut, 404: ErrorOut})
    def get(self, request: Request, graph_id: int, number: int) -> Response:
        graph = graph_get(request.user, graph_id)
        return Response(s.release_out(release_get(graph, number)))


class ReleaseDiffView(APIView):
    @extend_schema(operation_id="releases_diff", responses={200: s.ReleaseChangesOut, **ERRORS}, parameters=[
        OpenApiParameter("from", int, description="release number"),
        OpenApiParameter("to", int, description="release number")])
    def get(self, request: Request, graph_id: int) -> Response:
        graph = graph_get(request.user, graph_id)
        before, after = _numbered(graph, request, "from"), _numbered(graph, request, "to")
        return Response(s.changes_out(release_changes(before, after)))


class LabelView(APIView):
    """GET ?release=N: what moving the label there would change for live traffic; PUT: move it."""

    @extend_schema(operation_id="release_labels_preview", responses={200: s.ReleaseChangesOut, **ERRORS},
                   parameters=[OpenApiParameter("release", int, description="the release to move the label to")])
    def get(self, request: Request, graph_id: int, label: str) -> Response:
        graph = graph_get(request.user, graph_id)
        check_label(label)
        target = _numbered(graph, request, "release")
        return Response(s.changes_out(release_changes(labelled_release(graph, label), target), label))

    @extend_schema(operation_id="release_labels_move", request=s.ReleaseLabelMoveInput,
                   responses={200: s.ReleaseChangesOut, **ERRORS})
    def put(self, request: Request, graph_id: int, label: str) -> Response:
        graph = graph_get(request.user, graph_id)
        data = parse(s.ReleaseLabelMoveInput, request)
        target = release_get(graph, data["release"], "release")
        before = labelled_release(graph, label)
        release_label_move(user=request.user, graph=graph, label=label, release=target, note=data["note"],
                           override_reason=data["override_reason"])
        return Response(s.changes_out(release_changes(before, target), label))
