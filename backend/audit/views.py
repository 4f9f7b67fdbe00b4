"""GET /api/workspaces/<id>/audit/ (the workspace's admins) and GET /api/audit/ (staff: deployment-wide). Thin.

Read-only by construction: these views answer GET only, and the model refuses edits.
"""
from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.config.api import ErrorOut
from backend.graphs.authz import Action, require
from backend.graphs.selectors import workspaces_of

from .models import AuditEntry
from .selectors import audit_page, parse_filter


class ActorOut(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    username = serializers.CharField(help_text="as it was at the time; empty: the system")


class TargetOut(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.CharField()
    name = serializers.CharField()


class AuditEntryOut(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    workspace = serializers.IntegerField(allow_null=True)
    actor = ActorOut()
    action = serializers.ChoiceField(choices=AuditEntry.Action.choices)
    target = TargetOut()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    request_id = serializers.CharField(allow_null=True)


class AuditPageOut(serializers.Serializer):
    results = AuditEntryOut(many=True)
    next = serializers.CharField(allow_null=True, help_text="URL of the next (older) page; null at the end")
    actions = serializers.ListField(child=serializers.CharField(), help_text="every action name, for filters")


def entry_out(entry: AuditEntry) -> dict[str, Any]:
    return {"id": entry.pk, "at": entry.created_at, "workspace": entry.workspace_id,
            "actor": {"id": entry.actor_user_id, "username": entry.actor_username},
            "action": entry.action,
            "target": {"type": entry.target_type, "id": entry.target_id, "name": entry.target_name},
            "before": entry.before, "after": entry.after, "request_id": entry.request_id or None}


_PARAMETERS = [
    OpenApiParameter("action", OpenApiTypes.STR, many=True, description="one or more actions (repeat or comma)"),
    OpenApiParameter("target_type", OpenApiTypes.STR, description="endpoint, api_key, prompt, workspace, member, "
                     "model"),
    OpenApiParameter("actor", OpenApiTypes.STR, description="username at the time of the change"),
    OpenApiParameter("since", OpenApiTypes.STR, description="ISO date or date-time (inclusive)"),
    OpenApiParameter("until", OpenApiTypes.STR, description="ISO date (inclusive) or date-time (exclusive)"),
    OpenApiParameter("before", OpenApiTypes.INT, description="cursor: entries older than this id"),
    OpenApiParameter("limit", OpenApiTypes.INT, description="page size, 1 to 200 (default 50)"),
]


def _page(request: Request, workspace: Any) -> Response:
    wanted = parse_filter(request.query_params)
    rows, cursor = audit_page(workspace, wanted)
    following = None
    if cursor is not None:
        query = request.query_params.copy()
        query["before"] = str(cursor)
        following = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    return Response({"results": [entry_out(e) for e in rows], "next": following,
                     "actions": list(AuditEntry.Action.values)})


class WorkspaceAuditView(APIView):
    @extend_schema(operation_id="workspaces_audit_list", parameters=_PARAMETERS, tags=["audit"],
                   responses={200: AuditPageOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
                   summary="The workspace's audit log, newest first (workspace admins only)")
    def get(self, request: Request, workspace_id: int) -> Response:
        workspace = workspaces_of(request.user).filter(pk=workspace_id).first()
        if workspace is None:
            raise Http404("No such workspace of yours")
        require(request.user, workspace, Action.AUDIT_READ)
        return _page(request, workspace)


class DeploymentAuditView(APIView):
    @extend_schema(operation_id="audit_list", parameters=_PARAMETERS, tags=["audit"],
                   responses={200: AuditPageOut, 400: ErrorOut, 403: ErrorOut},
                   summary="Deployment-wide changes (the model registry), newest first (staff only)")
    def get(self, request: Request) -> Response:
        require(request.user, None, Action.DEPLOYMENT_AUDIT_READ)
        return _page(request, None)
