"""GET/PATCH /api/workspaces/<id>/spend/: the month's spend against the cap (any member reads; admins set it)."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.config.api import ErrorOut
from backend.config.errors import InvalidRequest
from backend.graphs.selectors import workspaces_of

from .spend import spend_cap_update, spend_status


class SpendCapIn(serializers.Serializer):
    monthly_cap_usd = serializers.FloatField(required=False, allow_null=True,
                                             help_text="USD per calendar month (UTC); null: no cap")
    warn_at_fraction = serializers.FloatField(required=False, help_text="warn past this fraction of the cap (0.01-1)")


class SpendOut(serializers.Serializer):
    workspace = serializers.IntegerField()
    monthly_cap_usd = serializers.FloatField(allow_null=True)
    warn_at_fraction = serializers.FloatField()
    spend_this_month = serializers.FloatField(help_text="cost of the runs created since the 1st, 00:00 UTC")
    month_start = serializers.DateTimeField()
    refused_this_month = serializers.IntegerField(allow_null=True,
                                                  help_text="runs and calls refused at the cap; null: unknown now")
    warning = serializers.BooleanField(help_text="spend has passed warn_at_fraction of the cap")
    reached = serializers.BooleanField(help_text="new runs and endpoint calls are refused (429 workspace_spend_cap)")


class WorkspaceSpendView(APIView):
    def _workspace(self, request: Request, workspace_id: int) -> Any:
        workspace = workspaces_of(request.user).filter(pk=workspace_id).first()
        if workspace is None:
            raise Http404("No such workspace of yours")
        return workspace

    @extend_schema(operation_id="workspaces_spend_get", responses={200: SpendOut, 404: ErrorOut})
    def get(self, request: Request, workspace_id: int) -> Response:
        return Response(asdict(spend_status(self._workspace(request, workspace_id))))

    @extend_schema(operation_id="workspaces_spend_update", request=SpendCapIn,
                   responses={200: SpendOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut})
    def patch(self, request: Request, workspace_id: int) -> Response:
        workspace = self._workspace(request, workspace_id)
        if not isinstance(request.data, dict):
            raise InvalidRequest("Bad spend cap.", [{"path": "", "message": "expected a JSON object"}])
        return Response(asdict(spend_cap_update(workspace=workspace, user=request.user, changes=dict(request.data))))
