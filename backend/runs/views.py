"""Run endpoints: thin; logic in services and selectors."""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.config.api import ErrorOut, parse
from backend.config.errors import InvalidRequest
from backend.config.params import MAX_INT, parse_int
from backend.engine.shapes import events_schema, span_schema
from backend.graphs.selectors import graph_get

from .models import Run
from .replay import compare, run_replay
from .selectors import events_after, run_get, runs_visible_to
from .serializers import RUN_EVENTS, RunCreateInput, RunDetailOut, RunOut, RunReplayInput, run_out
from .services import run_cancel, run_create

MAX_LIST = 200


class RunListView(APIView):
    @extend_schema(operation_id="runs_list", parameters=[OpenApiParameter("graph", int), OpenApiParameter("status", str)], responses={200: RunOut(many=True), 400: ErrorOut})
    def get(self, request: Request) -> Response:
        runs = runs_visible_to(request.user).select_related("graph_version")
        graph = request.query_params.get("graph")
        if graph:
            runs = runs.filter(graph_id=parse_int(graph, field="graph", minimum=1))
        wanted = request.query_params.get("status")
        if wanted:
            if wanted not in Run.Status.values:
                raise InvalidRequest("Bad filter.", [{"path": "status", "message": "must be one of "
                                                      + ", ".join(Run.Status.values)}])
            runs = runs.filter(status=wanted)
        return Response([run_out(r) for r in runs[:MAX_LIST]])

    @extend_schema(operation_id="runs_create", request=RunCreateInput, responses={201: RunOut, 400: ErrorOut, 404: ErrorOut})
    def post(self, request: Request) -> Response:
        data = parse(RunCreateInput, request)
        graph = graph_get(request.user, data["graph"])
        run = run_create(graph=graph, user=request.user, input=data["input"], version_number=data.get("version"),
                         budget=data.get("budget"), source=data["source"], fresh=data["fresh"])
        return Response(run_out(run), status=status.HTTP_201_CREATED)


class RunDetailView(APIView):
    @extend_schema(operation_id="runs_get", responses={200: RunDetailOut, 404: ErrorOut})
    def get(self, request: Request, run_id: str) -> Response:
        return Response(run_out(run_get(request.user, run_id), with_spans=True))


class RunCancelView(APIView):
    @extend_schema(operation_id="runs_cancel", request=None, responses={202: RunOut, 403: ErrorOut, 404: ErrorOut})
    def post(self, request: Request, run_id: str) -> Response:
        run = run_cancel(run=run_get(request.user, run_id), user=request.user)
        return Response(run_out(run), status=status.HTTP_202_ACCEPTED)


class RunReplayView(APIView):
    """Replay a finished run: all of it, or from a node (POST {from_node?, version?, override?})."""

    @extend_schema(operation_id="runs_replay", request=RunReplayInput, responses={201: RunOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut})
    def post(self, request: Request, run_id: str) -> Response:
        data = parse(RunReplayInput, request)
        replay = run_replay(run=run_get(request.user, run_id), user=request.user, from_node=data.get("from_node"),
                            version=data.get("version"), override=data.get("override"))
        return Response(run_out(replay), status=status.HTTP_201_CREATED)


class RunCompareView(APIView):
    """Two runs side by side (a replay and its original): per node outputs, cost and time."""

    @extend_schema(operation_id="runs_compare", responses={200: OpenApiTypes.OBJECT, 404: ErrorOut})
    def get(self, request: Request, run_id: str, other_id: str) -> Response:
        return Response(compare(run_get(request.user, run_id), run_get(request.user, other_id)))


class RunEventListView(APIView):
    """The persisted events after a sequence number: the websocket's replay, over HTTP."""

    @extend_schema(operation_id="runs_events_list", parameters=[OpenApiParameter("after", int)], responses={200: RUN_EVENTS, 400: ErrorOut, 404: ErrorOut})
    def get(self, request: Request, run_id: str) -> Response:
        run = run_get(request.user, run_id)
        after = parse_int(request.query_params.get("after", "0"), field="after", maximum=MAX_INT)
        return Response(events_after(run.pk, after))


class SpanSchemaView(APIView):
    """span.json, the one definition of a span (public: it describes a shape, no one's data)."""

    permission_classes = [AllowAny]

    @extend_schema(operation_id="schemas_span", responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        return Response(span_schema())


class EventsSchemaView(APIView):
    """events.json with span.json bundled: every message a run's followers receive."""

    permission_classes = [AllowAny]

    @extend_schema(operation_id="schemas_events", responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        return Response(events_schema())
