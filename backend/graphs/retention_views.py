"""GET/PATCH /api/workspaces/<id>/retention/: read (any member) and change (admins) a workspace's policy."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.config.api import ErrorOut
from backend.config.errors import InvalidRequest

from .retention import RetentionPolicy, retention_policy, workspace_retention_update
from .selectors import workspaces_of


class RetentionIn(serializers.Serializer):
    event_days = serializers.IntegerField(required=False, allow_null=True,
                                          help_text="days to keep events and span input/output; null: the default")
    run_days = serializers.IntegerField(required=False, allow_null=True,
                                        help_text="days to keep run rows and totals; null: the default")


class RetentionOut(serializers.Serializer):
    workspace = serializers.IntegerField()
    event_days = serializers.IntegerField()
    run_days = serializers.IntegerField()
    event_days_is_default = serializers.BooleanField()
    run_days_is_default = serializers.BooleanField()
    default_event_days = serializers.IntegerField()
    default_run_days = serializers.IntegerField()


def retention_out(workspace_id: int, policy: RetentionPolicy) -> dict[str, Any]:
    return {"workspace": workspace_id, "event_days": policy.event_days, "run_days": policy.run_days,
            "event_days_is_default": policy.event_days_is_default, "run_days_is_default": policy.run_days_is_default,
            "default_event_days": settings.PATCHBAY_RETENTION_EVENT_DAYS,
            "default_run_days": settings.PATCHBAY_RETENTION_RUN_DAYS}


class WorkspaceRetentionView(APIView):
    def _workspace(self, request: Request, workspace_id: int) -> Any:
        workspace = workspaces_of(request.user).filter(pk=workspace_id).first()
        if workspace is None:
            raise Http404("No such workspace of yours")
        return workspace

    @extend_schema(operation_id="workspaces_retention_get", responses={200: RetentionOut, 404: ErrorOut})
    def get(self, request: Request, workspace_id: int) -> Response:
        workspace = self._workspace(request, workspace_id)
        return Response(retention_out(workspace.pk, retention_policy(workspace)))

    @extend_schema(operation_id="workspaces_retention_update", request=RetentionIn,
                   responses={200: RetentionOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut})
    def patch(self, request: Request, workspace_id: int) -> Response:
        workspace = self._workspace(request, workspace_id)
        if not isinstance(request.data, dict):
            raise InvalidRequest("Bad retention policy.", [{"path": "", "message": "expected a JSON object"}])
        policy = workspace_retention_update(workspace=workspace, user=request.user, changes=dict(request.data))
        return Response(retention_out(workspace.pk, policy))
