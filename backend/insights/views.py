"""Insights endpoints: thin; logic in labels.py, selectors.py, dashboard.py and projection.py."""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404
from django.utils import timezone
from drf_spectacular.plumbing import build_array_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.config.api import ErrorOut
from backend.config.errors import InvalidRequest
from backend.config.params import optional_int, parse_when
from backend.graphs.selectors import graph_get, graphs_visible_to
from backend.runs.selectors import run_get

from .dashboard import dashboard
from .evidence import route_eval_evidence
from .labels import label_set
from .models import Projection, RunLabel
from .projection import projection_start
from .selectors import Period, labels_of_run, period_runs, true_routes

MAX_DAYS = 366


class RunLabelOut(serializers.Serializer):
    node_id = serializers.CharField(allow_blank=True, help_text='the step labelled ("" = the run as a whole)')
    route = serializers.CharField(allow_blank=True, help_text="the route a router step should have taken")
    verdict = serializers.CharField(allow_blank=True, help_text="pass | fail | empty")
    comment = serializers.CharField(allow_blank=True)
    created_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_by = serializers.CharField(allow_null=True)
    updated_at = serializers.DateTimeField()


class RunLabelIn(serializers.Serializer):
    node_id = serializers.CharField(allow_blank=True, required=False, default="")
    route = serializers.CharField(allow_blank=True, required=False)
    verdict = serializers.CharField(allow_blank=True, required=False)
    comment = serializers.CharField(allow_blank=True, required=False)


def label_out(label: RunLabel) -> dict[str, Any]:
    return {"node_id": label.node_id, "route": label.route, "verdict": label.verdict, "comment": label.comment,
            "created_by": getattr(label.created_by, "username", None), "created_at": label.created_at,
            "updated_by": getattr(label.updated_by, "username", None), "updated_at": label.updated_at}


class RunLabelsView(APIView):
    """People's labels on a run: any member reads them, editors add or change them (one per step)."""

    @extend_schema(operation_id="runs_labels_list", responses={200: RunLabelOut(many=True), 404: ErrorOut})
    def get(self, request: Request, run_id: str) -> Response:
        return Response([label_out(label) for label in labels_of_run(run_get(request.user, run_id))])

    @extend_schema(operation_id="runs_labels_set", request=RunLabelIn,
                   responses={200: RunLabelOut, 201: RunLabelOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut})
    def post(self, request: Request, run_id: str) -> Response:
        run = run_get(request.user, run_id)
        body = request.data if isinstance(request.data, dict) else None
        if body is None:
            raise InvalidRequest("Bad label.", [{"path": "", "message": "expected a JSON object"}])
        changes: dict[str, Any] = {key: body[key] for key in ("route", "verdict", "comment") if key in body}
        label, created = label_set(user=request.user, run=run, node_id=body.get("node_id", ""), changes=changes)
        return Response(label_out(label), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


def period_from(params: Any) -> Period:
    """?since=&until= (ISO dates), or ?days= back from now (default 30)."""
    until = parse_when(params["until"], field="until") if params.get("until") else timezone.now()
    if params.get("since"):
        since = parse_when(params["since"], field="since")
    else:
        days = optional_int(params.get("days"), field="days", default=30, minimum=1, maximum=MAX_DAYS) or 30
        since = until - dt.timedelta(days=days)
    if since >= until:
        raise InvalidRequest("Bad period.", [{"path": "since", "message": "must be before until"}])
    return Period(since=since, until=until)


class GraphInsightsView(APIView):
    """A graph's pattern dashboard over a period: metrics per pattern step, per step, per run, and advice."""

    @extend_schema(operation_id="graphs_insights", parameters=[
        OpenApiParameter("days", int, description="the last N days (default 30)"),
        OpenApiParameter("since", OpenApiTypes.DATETIME), OpenApiParameter("until", OpenApiTypes.DATETIME)],
        responses={200: OpenApiTypes.OBJECT, 400: ErrorOut, 404: ErrorOut})
    def get(self, request: Request, graph_id: int) -> Response:
        graph = graph_get(request.user, graph_id)
        period = period_from(request.query_params)
        runs = period_runs(graph, period)
        spec = graph.latest_version.spec if graph.latest_version else {}
        body = dashboard(spec, runs, true_routes(r.run_id for r in runs), route_eval_evidence(graph))
        return Response({"graph": graph.pk, "since": period.since, "until": period.until, **body})


class ProjectionIn(serializers.Serializer):
    inputs = serializers.JSONField(required=False, help_text="a list of run inputs to dry-run")
    recent = serializers.JSONField(required=False, help_text="or: dry-run the inputs of the N newest runs")
    dataset = serializers.IntegerField(required=False, help_text="or: dry-run the inputs of a dataset's items "
                                                                 "(the first 500; same workspace)")


def projection_out(projection: Projection) -> dict[str, Any]:
    return {"id": projection.pk, "graph": projection.graph_id, "version": projection.graph_version.number,
            "inputs": len(projection.inputs), "source": projection.source, "status": projection.status,
            "result": projection.result, "error": projection.error, "created_at": projection.created_at,
            "finished_at": projection.finished_at}


class GraphProjectionsView(APIView):
    """Cost projections of a graph: list them, or start one (a dry run on Celery; no provider is called)."""

    @extend_schema(operation_id="graphs_projections_list",
                   responses={200: build_array_type({"type": "object", "additionalProperties": {}}), 404: ErrorOut})
    def get(self, request: Request, graph_id: int) -> Response:
        graph = graph_get(request.user, graph_id)
        rows = Projection.objects.filter(graph=graph).select_related("graph_version")[:20]
        return Response([projection_out(p) for p in rows])

    @extend_schema(operation_id="graphs_projections_start", request=ProjectionIn,
                   responses={202: OpenApiTypes.OBJECT, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut})
    def post(self, request: Request, graph_id: int) -> Response:
        graph = graph_get(request.user, graph_id)
        body = request.data if isinstance(request.data, dict) else None
        if body is None:
            raise InvalidRequest("Bad projection.", [{"path": "", "message": "expected a JSON object"}])
        projection = projection_start(user=request.user, graph=graph, inputs=body.get("inputs"),
                                      recent=body.get("recent"), dataset=body.get("dataset"))
        return Response(projection_out(projection), status=status.HTTP_202_ACCEPTED)


class ProjectionDetailView(APIView):
    @extend_schema(operation_id="projections_get", responses={200: OpenApiTypes.OBJECT, 404: ErrorOut})
    def get(self, request: Request, projection_id: int) -> Response:
        projection = (Projection.objects.filter(pk=projection_id, graph__in=graphs_visible_to(request.user))
                      .select_related("graph_version").first())
        if projection is None:
            raise Http404("No such projection in your workspaces")
        return Response(projection_out(projection))
