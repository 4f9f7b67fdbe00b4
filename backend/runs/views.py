"""Run endpoints: thin; logic in services and selectors."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.config.api import ErrorOut, parse
from backend.config.errors import InvalidRequest
from backend.config.params import MAX_INT, optional_int, parse_amount, parse_int, parse_text, parse_when
from backend.engine.shapes import events_schema, span_schema
from backend.graphs.selectors import graph_get

from .models import Run
from .replay import compare, run_replay
from .selectors import RunSearch, events_after, run_get, runs_matching
from .serializers import RUN_EVENTS, RUN_SOURCES, RunCreateInput, RunDetailOut, RunOut, RunReplayInput, run_out
from .services import run_cancel, run_create

MAX_LIST = 200
T = TypeVar("T")


MAX_OFFSET = 100_000  # deeper than this, narrow the search instead
SEARCH_PARAMS = [
    OpenApiParameter("request_id", str, description="the caller's X-Request-Id, exactly"),
    OpenApiParameter("status", str, enum=Run.Status.values), OpenApiParameter("graph", int),
    OpenApiParameter("version", int, description="graph version number"),
    OpenApiParameter("release", int, description="with graph=: that graph's release number; without: the "
                     "release id"),
    OpenApiParameter("source", str, enum=list(RUN_SOURCES)),
    OpenApiParameter("created_after", OpenApiTypes.DATETIME, description="ISO 8601 date or date-time (UTC)"),
    OpenApiParameter("created_before", OpenApiTypes.DATETIME, description="ISO 8601 date or date-time (UTC)"),
    OpenApiParameter("cost_above", float, description="USD"),
    OpenApiParameter("latency_above", float, description="engine_ms, milliseconds"),
    OpenApiParameter("model", str, description="runs with a model call answered by this model"),
    OpenApiParameter("error", str, description="part of the error text, any case"),
    OpenApiParameter("q", str, description="part of the request id or of the error text"),
    OpenApiParameter("limit", int, description=f"1 to {MAX_LIST} (default {MAX_LIST})"),
    OpenApiParameter("offset", int, description="skip this many; the Link header gives the next page")]


def _choice(params: Any, field: str, choices: Any) -> str:
    value = parse_text(params.get(field, ""), field=field)
    if value and value not in choices:
        raise InvalidRequest("Bad filter.", [{"path": field, "message": "must be one of " + ", ".join(choices)}])
    return value


def _optional(params: Any, field: str, parse: Callable[..., T]) -> T | None:
    value = params.get(field, "")
    return None if value == "" else parse(value, field=field)


def run_search_from(params: Any) -> RunSearch:
    """The runs list's query string as a ``RunSearch``; any bad value is a 400 naming its parameter."""
    text = {field: parse_text(params.get(field, ""), field=field) for field in ("request_id", "model", "error", "q")}
    return RunSearch(
        request_id=text["request_id"], model=text["model"], error=text["error"], text=text["q"],
        status=_choice(params, "status", Run.Status.values), source=_choice(params, "source", RUN_SOURCES),
        graph=optional_int(params.get("graph"), field="graph", minimum=1),
        version=optional_int(params.get("version"), field="version", minimum=1, maximum=MAX_INT),
        release=optional_int(params.get("release"), field="release", minimum=1, maximum=MAX_INT),
        created_after=_optional(params, "created_after", parse_when),
        created_before=_optional(params, "created_before", parse_when),
        cost_above=_optional(params, "cost_above", parse_amount),
        latency_above=_optional(params, "latency_above", parse_amount))


class RunListView(APIView):
    @extend_schema(operation_id="runs_list", parameters=SEARCH_PARAMS, responses={200: RunOut(many=True), 400: ErrorOut})
    def get(self, request: Request) -> Response:
        search = run_search_from(request.query_params)
        limit = optional_int(request.query_params.get("limit"), field="limit", default=MAX_LIST, minimum=1,
                             maximum=MAX_LIST) or MAX_LIST
        offset = optional_int(request.query_params.get("offset"), field="offset", default=0, maximum=MAX_OFFSET) or 0
        page = list(runs_matching(request.user, search).select_related("graph_version", "release")[offset:offset + limit + 1])
        response = Response([run_out(r) for r in page[:limit]])
        if len(page) > limit:  # one more than asked: there is a next page
            query = request.query_params.copy()
            query["offset"] = str(offset + limit)
            response["Link"] = f'<{request.path}?{query.urlencode()}>; rel="next"'
        return response

    @extend_schema(operation_id="runs_create", request=RunCreateInput, responses={201: RunOut, 400: ErrorOut, 404: ErrorOut, 429: ErrorOut})
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
