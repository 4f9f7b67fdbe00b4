"""Graph and prompt endpoints: thin, one class per resource; logic lives in services."""
from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.config.api import ErrorOut, parse
from backend.config.errors import InvalidRequest
from backend.engine.nodes import catalogue

from . import serializers as s
from .models import Prompt, Workspace
from .selectors import graph_get, graphs_visible_to, prompt_get, workspaces_of
from .services import (
    graph_create,
    graph_delete,
    graph_problems,
    graph_save_version,
    graph_warnings,
    prompt_create,
    prompt_label_move,
    prompt_version_create,
    workspace_for_user,
)


def pick_workspace(request: Request, workspace_id: int | None) -> Workspace:
    if workspace_id is None:
        return workspace_for_user(request.user)
    workspace = workspaces_of(request.user).filter(pk=workspace_id).first()
    if workspace is None:
        raise InvalidRequest("Unknown workspace.", [{"path": "workspace", "message": "not one of your workspaces"}])
    return workspace


class GraphListView(APIView):
    @extend_schema(operation_id="graphs_list", responses={200: s.GraphOut(many=True)})
    def get(self, request: Request) -> Response:
        graphs = graphs_visible_to(request.user)
        return Response([s.graph_summary(g) for g in graphs])

    @extend_schema(operation_id="graphs_create", request=s.GraphCreateInput, responses={201: s.GraphCreatedOut, 400: ErrorOut})
    def post(self, request: Request) -> Response:
        data = parse(s.GraphCreateInput, request)
        workspace = pick_workspace(request, data.get("workspace"))
        graph = graph_create(workspace=workspace, user=request.user, spec=data["spec"], message=data["message"])
        return Response({**s.graph_detail(graph), "warnings": graph_warnings(graph=graph)}, status=status.HTTP_201_CREATED)


class GraphDetailView(APIView):
    @extend_schema(operation_id="graphs_get", responses={200: s.GraphOut, 404: ErrorOut})
    def get(self, request: Request, graph_id: int) -> Response:
        return Response(s.graph_detail(graph_get(request.user, graph_id)))

    @extend_schema(operation_id="graphs_save_version", request=s.VersionSaveInput, responses={200: s.GraphSavedOut, 201: s.GraphSavedOut, **{400: ErrorOut, 404: ErrorOut}})
    def put(self, request: Request, graph_id: int) -> Response:
        graph = graph_get(request.user, graph_id)
        data = parse(s.VersionSaveInput, request)
        version, created = graph_save_version(graph=graph, user=request.user, spec=data["spec"],
                                              message=data["message"], reason=data["reason"])
        graph.refresh_from_db()
        return Response({**s.graph_detail(graph), "created_version": created, "warnings": graph_warnings(graph=graph)},
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(operation_id="graphs_delete", responses={204: None, 404: ErrorOut, 409: ErrorOut})
    def delete(self, request: Request, graph_id: int) -> Response:
        graph_delete(graph=graph_get(request.user, graph_id), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GraphVersionListView(APIView):
    @extend_schema(operation_id="graphs_versions_list", responses={200: s.VersionSummaryOut(many=True), 404: ErrorOut})
    def get(self, request: Request, graph_id: int) -> Response:
        graph = graph_get(request.user, graph_id)
        return Response([s.version_summary(v) for v in graph.versions.select_related("author")])


class GraphVersionDetailView(APIView):
    @extend_schema(operation_id="graphs_versions_get", responses={200: s.VersionDetailOut, 404: ErrorOut})
    def get(self, request: Request, graph_id: int, number: int) -> Response:
        graph = graph_get(request.user, graph_id)
        return Response(s.version_detail(get_object_or_404(graph.versions, number=number)))


class GraphValidateView(APIView):
    """Check a spec without saving it: every problem, each with its path."""

    @extend_schema(operation_id="graphs_validate", request=s.GraphCreateInput, responses={200: s.ValidationOut, 400: ErrorOut})
    def post(self, request: Request) -> Response:
        data = parse(s.GraphCreateInput, request)
        workspace = pick_workspace(request, data.get("workspace"))
        problems = graph_problems(workspace=workspace, spec=data["spec"])
        # Warnings are listed with the rest; only the others make a graph invalid.
        return Response({"valid": not any(p.get("severity") != "warning" for p in problems), "problems": problems})


class NodeTypeListView(APIView):
    @extend_schema(operation_id="node_types_list", responses={200: s.NodeTypeOut(many=True)})
    def get(self, request: Request) -> Response:
        return Response(catalogue())


class PromptListView(APIView):
    @extend_schema(operation_id="prompts_list", responses={200: s.PromptOut(many=True)})
    def get(self, request: Request) -> Response:
        prompts = Prompt.objects.filter(workspace__membership__user=request.user.pk)
        return Response([s.prompt_out(p) for p in prompts])

    @extend_schema(operation_id="prompts_create", request=s.PromptCreateInput, responses={201: s.PromptOut, 400: ErrorOut})
    def post(self, request: Request) -> Response:
        data = parse(s.PromptCreateInput, request)
        workspace = pick_workspace(request, data.pop("workspace", None))
        prompt = prompt_create(workspace=workspace, user=request.user, **data)
        return Response(s.prompt_out(prompt), status=status.HTTP_201_CREATED)


class PromptVersionListView(APIView):
    @extend_schema(operation_id="prompts_versions_list", responses={200: s.PromptVersionOut(many=True), 404: ErrorOut})
    def get(self, request: Request, name: str) -> Response:
        prompt = prompt_get(request.user, name)
        return Response([s.prompt_version_out(v) for v in prompt.versions.select_related("author")])

    @extend_schema(operation_id="prompts_versions_create", request=s.PromptVersionInput, responses={201: s.PromptVersionOut, **{400: ErrorOut, 404: ErrorOut}})
    def post(self, request: Request, name: str) -> Response:
        prompt = prompt_get(request.user, name)
        version = prompt_version_create(prompt=prompt, user=request.user, **parse(s.PromptVersionInput, request))
        return Response(s.prompt_version_out(version), status=status.HTTP_201_CREATED)


class PromptLabelView(APIView):
    @extend_schema(operation_id="prompts_labels_move", request=s.LabelMoveInput, responses={200: s.LabelOut, **{400: ErrorOut, 404: ErrorOut}})
    def put(self, request: Request, name: str, label: str) -> Response:
        prompt = prompt_get(request.user, name)
        data = parse(s.LabelMoveInput, request)
        moved = prompt_label_move(prompt=prompt, user=request.user, label=label, version_number=data["version"])
        return Response({"prompt": prompt.name, "label": moved.name, "version": moved.version.number})



