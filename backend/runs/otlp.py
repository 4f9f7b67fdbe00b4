"""A run as OpenTelemetry traces (OTLP), built with the ``opentelemetry-proto`` types.

One OTLP span per stored span: every node, every model call, and the patterns' own
spans (plan, worker, sample, iteration), with the trace's parent/child links. The
run's trace id is the OTLP trace id; span ids are the engine's (16 hex digits).

Attributes follow the OpenTelemetry GenAI conventions on model calls
(``gen_ai.operation.name``, ``gen_ai.system``, ``gen_ai.request.model``,
``gen_ai.response.model``, ``gen_ai.usage.input_tokens`` / ``output_tokens``);
Patchbay's own facts are under ``patchbay.*``: the cost of a span in US dollars is
``patchbay.cost_usd`` (a cache hit's saved cost stays ``patchbay.cached_cost_usd``).
The run (id, graph, version, status, source, request id) is on the resource.

Two encodings of the same ``ExportTraceServiceRequest``:
- ``otlp_json``: the OTLP/JSON mapping (ids as hex, enums as integers), what
  ``GET /api/runs/<id>/otlp`` returns;
- ``otlp_protobuf``: the binary body an OTLP/HTTP receiver takes at ``/v1/traces``.

No provider key reaches an export: spans never hold one, and attribute keys that
look like a secret are dropped all the same.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from .callers import remember_caller, request_id_of
from .models import Run
from .models import Span as StoredSpan

SCOPE = "patchbay"
COST_ATTRIBUTE = "patchbay.cost_usd"
# Input and output are the span's own (messages, answers); kept whole up to this many characters each.
MAX_PAYLOAD_CHARS = 16_000
_SECRET_KEY = re.compile(r"api[_-]?key|authorization|secret|password|token$", re.IGNORECASE)
_ID_FIELDS = ("traceId", "spanId", "parentSpanId")


def _value(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, str):
        return AnyValue(string_value=value)
    if isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float, bool)) for v in value):
        return AnyValue(array_value=ArrayValue(values=[_value(v) for v in value]))
    return AnyValue(string_value=json.dumps(value, default=str, ensure_ascii=False))


def _attributes(values: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=k, value=_value(v)) for k, v in values.items()
            if v is not None and not _SECRET_KEY.search(k)]


def _nanos(when: Any) -> int:
    return int(when.timestamp() * 1_000_000_000) if when is not None else 0


def _payload(value: Any) -> str | None:
    if value is None:
        return None
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= MAX_PAYLOAD_CHARS else text[:MAX_PAYLOAD_CHARS] + "…"


def _span_id(text: str) -> bytes:
    """The engine's 16-hex-digit ids are OTLP's 8 bytes; anything else is hashed down to 8."""
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = b""
    if len(raw) == 8:
        return raw
    return hashlib.sha256(text.encode()).digest()[:8]


def _trace_id(run: Run) -> bytes:
    try:
        raw = bytes.fromhex(run.trace_id)
    except ValueError:
        raw = b""
    return raw if len(raw) == 16 else run.pk.bytes


def span_attributes(run: Run, span: StoredSpan) -> dict[str, Any]:
    """A stored span's attributes as exported: its own, then GenAI and Patchbay facts from its columns."""
    values: dict[str, Any] = dict(span.attributes or {})
    values.update({"patchbay.run.id": str(run.pk), "patchbay.span.kind": span.kind,
                   "patchbay.node.id": span.node_id or None, "patchbay.node.type": span.node_type or None,
                   COST_ATTRIBUTE: float(span.cost_usd or 0.0), "patchbay.cache_hit": span.cache_hit,
                   "patchbay.input": _payload(span.input), "patchbay.output": _payload(span.output)})
    if span.kind == "llm":
        alias = values.get("patchbay.model_alias")
        requested = (run.resolved or {}).get("models", {}).get(alias) if isinstance(alias, str) else None
        values.setdefault("gen_ai.operation.name", "chat")
        values["gen_ai.request.model"] = requested or alias or span.model or None
        values["gen_ai.response.model"] = span.model or values.get("gen_ai.response.model")
        values["gen_ai.usage.input_tokens"] = span.input_tokens
        values["gen_ai.usage.output_tokens"] = span.output_tokens
        model = span.model or requested or ""
        values.setdefault("gen_ai.system", model.split("/", 1)[0] if "/" in model else "patchbay")
    request_id = request_id_of(run)
    if request_id:
        values["patchbay.request_id"] = request_id
    return values


def _status(span: StoredSpan) -> Status:
    if span.status == "succeeded":
        return Status(code=Status.STATUS_CODE_OK)
    if span.status in ("failed", "budget_exceeded", "cancelled"):
        return Status(code=Status.STATUS_CODE_ERROR, message=span.error or span.status)
    return Status(code=Status.STATUS_CODE_UNSET)


def _span(run: Run, trace_id: bytes, span: StoredSpan) -> Span:
    attributes = span_attributes(run, span)
    is_call = span.kind == "llm"
    name = f"chat {attributes['gen_ai.request.model']}" if is_call and attributes.get("gen_ai.request.model") \
        else span.name
    end = span.ended_at or run.finished_at or span.started_at
    return Span(trace_id=trace_id, span_id=_span_id(span.span_id),
                parent_span_id=_span_id(span.parent_id) if span.parent_id else b"", name=name,
                kind=Span.SPAN_KIND_CLIENT if is_call else Span.SPAN_KIND_INTERNAL,
                start_time_unix_nano=_nanos(span.started_at), end_time_unix_nano=_nanos(end),
                attributes=_attributes(attributes), status=_status(span))


def _resource(run: Run) -> Resource:
    return Resource(attributes=_attributes({
        "service.name": "patchbay", "patchbay.run.id": str(run.pk), "patchbay.run.status": run.status,
        "patchbay.run.source": run.source, "patchbay.graph.id": run.graph_id,
        "patchbay.graph.version": run.graph_version.number, "patchbay.workspace.id": run.workspace_id,
        "patchbay.request_id": request_id_of(run) or None, COST_ATTRIBUTE: float(run.cost_usd or 0.0),
    }))


def otlp_request(run: Run) -> ExportTraceServiceRequest:
    """The run and its stored spans as one ExportTraceServiceRequest."""
    trace_id = _trace_id(run)
    remember_caller(run)
    spans = [_span(run, trace_id, s) for s in run.spans.order_by("started_at", "id")]
    scope = ScopeSpans(scope=InstrumentationScope(name=SCOPE), spans=spans)
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(resource=_resource(run), scope_spans=[scope])])


def _hex_ids(value: Any) -> None:
    """OTLP/JSON writes trace and span ids as hex, where protobuf's JSON mapping writes base64."""
    if isinstance(value, dict):
        for key, sub in value.items():
            if key in _ID_FIELDS and isinstance(sub, str):
                value[key] = base64.b64decode(sub).hex()
            else:
                _hex_ids(sub)
    elif isinstance(value, list):
        for sub in value:
            _hex_ids(sub)


def otlp_json(run: Run) -> dict[str, Any]:
    """The OTLP/JSON document of a run (lowerCamelCase names, integer enums, hex ids)."""
    doc = json_format.MessageToDict(otlp_request(run), use_integers_for_enums=True)
    _hex_ids(doc)
    return doc


def otlp_protobuf(run: Run) -> bytes:
    return otlp_request(run).SerializeToString()
