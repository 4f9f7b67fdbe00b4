"""Graph actions the canvas needs beyond plain CRUD: restore an old version, duplicate a graph."""
from __future__ import annotations

import copy

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.config.api import ErrorOut, parse
from backend.graphs import serializers as s
from backend.graphs.selectors import graph_get
from backend.graphs.serializers import GraphOut, GraphSavedOut
from backend.graphs.services import graph_create, graph_save_version


class RestoreInput(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)
    message = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class DuplicateInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=False)


class GraphRestoreView(APIView):
    """Save an old version's spec as a new version: history only ever grows."""

    @extend_schema(operation_id="graphs_restore", request=RestoreInput,
                   responses={201: GraphSavedOut, 200: GraphSavedOut, 400: ErrorOut, 404: ErrorOut})
    def post(self, request: Request, graph_id: int) -> Response:
        graph = graph_get(request.user, graph_id)
        data = parse(RestoreInput, request)
        old = get_object_or_404(graph.versions, number=data["version"])
        message = data["message"] or f"Restored version {old.number}"
        _, created = graph_save_version(graph=graph, user=request.user, spec=copy.deepcopy(old.spec), message=message)
        graph.refresh_from_db()
        return Response({**s.graph_detail(graph), "created_version": created},
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class GraphDuplicateView(APIView):
    @extend_schema(operation_id="graphs_duplicate", request=DuplicateInput,
                   responses={201: GraphOut, 400: ErrorOut, 404: ErrorOut})
    def post(self, request: Request, graph_id: int) -> Response:
        graph = graph_get(request.user, graph_id)
        data = parse(DuplicateInput, request)
        latest = graph.latest_version
        spec = copy.deepcopy(latest.spec) if latest else None
        if latest is None or spec is None:
            return Response({"error": "empty", "message": "This graph has no saved version to copy.", "problems": []},
                            status=status.HTTP_400_BAD_REQUEST)
        spec["name"] = data.get("name") or f"{graph.name} (copy)"[:200]
        copy_ = graph_create(workspace=graph.workspace, user=request.user, spec=spec,
                             message=f"Duplicated from '{graph.name}' version {latest.number}")
        return Response(s.graph_detail(copy_), status=status.HTTP_201_CREATED)
