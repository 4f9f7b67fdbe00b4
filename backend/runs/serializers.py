from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from backend.engine.shapes import openapi_components, span_fields, span_schema

from .callers import request_id_of
from .models import Approval, Run, Span
from .selectors import run_details_pruned

# Where a run started, as a caller of POST /api/runs/ may say (endpoint runs are marked by the endpoint itself).
CALLER_SOURCES = ("api", "canvas", "replay", "cli")
RUN_SOURCES = (*CALLER_SOURCES, "endpoint", "openai", "eval")  # every source a run may have: the runs list filters on them


class ReplayOverrideInput(serializers.Serializer):
    node = serializers.CharField(max_length=200)
    prompt = serializers.CharField(required=False, max_length=100000, allow_blank=True)
    model = serializers.CharField(required=False, max_length=200, allow_blank=True)


class RunReplayInput(serializers.Serializer):
    from_node = serializers.CharField(required=False, max_length=200, help_text="re-run from this node; "
                                      "the steps before it use the original's stored outputs")
    version = serializers.IntegerField(required=False, min_value=1, help_text="default: the original's version")
    override = ReplayOverrideInput(required=False, help_text="change one llm node's prompt or model for the replay")


class RunCreateInput(serializers.Serializer):
    graph = serializers.IntegerField()
    version = serializers.IntegerField(required=False, min_value=1)
    input = serializers.JSONField()
    budget = serializers.JSONField(required=False)
    source = serializers.ChoiceField(  # type: ignore[assignment]  # named like Field.source; DRF's metaclass moves it
        choices=CALLER_SOURCES, required=False, default="api", help_text="where the run was started: shown in the runs list")
    fresh = serializers.BooleanField(required=False, default=False,
                                     help_text="skip the cache: every model call is made (and its answer cached)")


# A stored span's text columns hold "" for "none"; span.json says null.
_NULL_WHEN_BLANK = frozenset(name for name, prop in span_schema()["properties"].items()
                             if prop.get("type") == ["string", "null"])


def span_out(span: Span) -> dict[str, Any]:
    """A stored span in span.json's shape (the fields come from the schema, not from a list kept here)."""
    out = {name: getattr(span, name) for name in span_fields()}
    return {name: (value or None) if name in _NULL_WHEN_BLANK else value for name, value in out.items()}


def waiting_for(run: Run) -> list[dict[str, Any]]:
    """A waiting run's undecided approval steps and who may decide each (empty for any other run)."""
    if run.status != Run.Status.WAITING:
        return []
    return [{"approval": a.pk, "node_id": a.node_id, "title": a.title, "deadline_at": a.deadline_at,
             "deciders": (a.request or {}).get("deciders") or {}}
            for a in Approval.objects.filter(run=run, status=Approval.Status.PENDING)]


def run_out(run: Run, *, with_spans: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(run.pk), "graph": run.graph_id, "version": run.graph_version.number, "status": run.status,
        "input": run.input, "output": run.output, "error": run.error or None, "trace_id": run.trace_id,
        "source": run.source, "request_id": request_id_of(run) or None, "budget": run.budget, "created_at": run.created_at, "started_at": run.started_at,
        "finished_at": run.finished_at,
        "totals": {"input_tokens": run.input_tokens, "output_tokens": run.output_tokens, "cost_usd": run.cost_usd,
                   "llm_calls": run.llm_calls, "duration_ms": run.latency_ms, "cache_hits": run.cache_hits,
                   "saved_usd": run.saved_usd, "saved_ms": run.saved_ms},
        "fresh": run.fresh,
        "engine_ms": run.engine_ms, "total_ms": run.total_ms,
        "websocket": f"/ws/runs/{run.pk}/",
        "replay_of": str(run.replay_of_id) if run.replay_of_id else None,
        "replay_from_node": run.replay_from_node or None,
        "resolved": run.resolved or {},
        "release": ({"id": run.release.pk, "number": run.release.number} if run.release is not None else None),
        "waiting_for": waiting_for(run),
    }
    if with_spans:
        data["spans"] = [span_out(s) for s in run.spans.all()]
        # Past its workspace's event window: spans keep timings, tokens and cost, not input/output.
        data["details_pruned"] = run_details_pruned(run.pk)
    return data


# --- Output shapes, for the OpenAPI document. ---

@extend_schema_field({"$ref": "#/components/schemas/SpanOut"})
class SpanField(serializers.JSONField):
    """A span; its OpenAPI shape is span.json (added as the ``SpanOut`` component by ``add_shape_components``)."""


# The stored events of a run, each of events.json's shape (the ``RunEvent`` component).
RUN_EVENTS: dict[str, Any] = {"type": "array", "items": {"$ref": "#/components/schemas/RunEvent"}}


def add_shape_components(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the span and event schemas as components, from their one file each."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(openapi_components())
    return result


class TotalsOut(serializers.Serializer):
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    cost_usd = serializers.FloatField()
    llm_calls = serializers.IntegerField()
    duration_ms = serializers.FloatField(allow_null=True, help_text="engine time, as the run's engine_ms")
    cache_hits = serializers.IntegerField(help_text="model calls answered from the cache")
    saved_usd = serializers.FloatField(help_text="what the cache hits saved: the original calls' cost")
    saved_ms = serializers.FloatField(help_text="what the cache hits saved: the original calls' model time")


class RunOut(serializers.Serializer):
    id = serializers.UUIDField()
    graph = serializers.IntegerField()
    version = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Run.Status.choices)
    input = serializers.JSONField()
    output = serializers.JSONField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    trace_id = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # named like Field.source; DRF's metaclass moves it
    request_id = serializers.CharField(allow_null=True, help_text="X-Request-Id of the call that started it "
                                       "(published endpoints, /v1 OpenAI-compatible calls)")
    budget = serializers.JSONField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    totals = TotalsOut()
    fresh = serializers.BooleanField(help_text="started with fresh: true (cache reads skipped)")
    engine_ms = serializers.FloatField(allow_null=True, help_text="time inside the engine, first step to last")
    total_ms = serializers.FloatField(allow_null=True, help_text="from accepted to finished, queue wait included")
    websocket = serializers.CharField(help_text="path of the live event stream")
    replay_of = serializers.UUIDField(allow_null=True, help_text="the run this one replays (POST .../replay/)")
    waiting_for = serializers.ListField(child=serializers.DictField(), help_text="a waiting run's undecided "
                                        "approval steps: approval id, node_id, title, deadline_at, deciders")
    replay_from_node = serializers.CharField(allow_null=True, help_text="the node the replay re-ran from; "
                                             "null: the whole run")
    resolved = serializers.JSONField(help_text="what the run resolved when it started: {prompts: {ref: "
                                     "\"name@version\"}, models: {alias: litellm model}}; {} before it starts")
    release = serializers.DictField(allow_null=True, help_text="the release an endpoint call ran (or a replay of "
                                    "one on the same version): {id, number}; null for runs started from the canvas "
                                    "or the API")


class RunDetailOut(RunOut):
    spans = serializers.ListField(child=SpanField())
    details_pruned = serializers.BooleanField(help_text="true once retention has dropped the run's events (but "
                                              "the final one) and its spans' input/output; totals are kept")
