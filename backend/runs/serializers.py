from __future__ import annotations

from typing import Any

from rest_framework import serializers

from .models import Run, Span
from .selectors import run_details_pruned


class RunCreateInput(serializers.Serializer):
    graph = serializers.IntegerField()
    version = serializers.IntegerField(required=False, min_value=1)
    input = serializers.JSONField()
    budget = serializers.JSONField(required=False)


def span_out(span: Span) -> dict[str, Any]:
    return {
        "span_id": span.span_id, "parent_id": span.parent_id or None, "node_id": span.node_id or None,
        "kind": span.kind, "name": span.name, "node_type": span.node_type or None, "status": span.status,
        "started_at": span.started_at, "ended_at": span.ended_at, "duration_ms": span.duration_ms,
        "input": span.input, "output": span.output, "model": span.model or None,
        "input_tokens": span.input_tokens, "output_tokens": span.output_tokens, "cost_usd": span.cost_usd,
        "cache_hit": span.cache_hit, "error": span.error or None, "attributes": span.attributes,
    }


def run_out(run: Run, *, with_spans: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(run.pk), "graph": run.graph_id, "version": run.graph_version.number, "status": run.status,
        "input": run.input, "output": run.output, "error": run.error or None, "trace_id": run.trace_id,
        "source": run.source, "budget": run.budget, "created_at": run.created_at, "started_at": run.started_at,
        "finished_at": run.finished_at,
        "totals": {"input_tokens": run.input_tokens, "output_tokens": run.output_tokens, "cost_usd": run.cost_usd,
                   "llm_calls": run.llm_calls, "duration_ms": run.latency_ms},
        "websocket": f"/ws/runs/{run.pk}/",
    }
    if with_spans:
        data["spans"] = [span_out(s) for s in run.spans.all()]
        # Past its workspace's event window: spans keep timings, tokens and cost, not input/output.
        data["details_pruned"] = run_details_pruned(run.pk)
    return data


# --- Output shapes, for the OpenAPI document. ---

class SpanOut(serializers.Serializer):
    span_id = serializers.CharField()
    parent_id = serializers.CharField(allow_null=True)
    node_id = serializers.CharField(allow_null=True)
    kind = serializers.CharField(help_text="node | llm | branch | sample | plan | worker | synthesize | iteration")
    name = serializers.CharField()
    node_type = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    duration_ms = serializers.FloatField(allow_null=True)
    input = serializers.JSONField(allow_null=True)
    output = serializers.JSONField(allow_null=True)
    model = serializers.CharField(allow_null=True)
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    cost_usd = serializers.FloatField()
    cache_hit = serializers.BooleanField()
    error = serializers.CharField(allow_null=True)
    attributes = serializers.JSONField(help_text="OpenTelemetry GenAI names where one exists")


class TotalsOut(serializers.Serializer):
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    cost_usd = serializers.FloatField()
    llm_calls = serializers.IntegerField()
    duration_ms = serializers.FloatField(allow_null=True)


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
    budget = serializers.JSONField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    totals = TotalsOut()
    websocket = serializers.CharField(help_text="path of the live event stream")


class RunDetailOut(RunOut):
    spans = SpanOut(many=True)
    details_pruned = serializers.BooleanField(help_text="true once retention has dropped the run's events (but "
                                              "the final one) and its spans' input/output; totals are kept")
