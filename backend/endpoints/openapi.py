"""OpenAPI for published flows: a document per endpoint, and the flow paths in the whole-API document.

Both are OpenAPI 3.1, whose schemas are JSON Schema 2020-12, the dialect of a
graph's ``inputs``: a flow's input schema goes into its document verbatim, so
generated clients validate exactly what the server validates. The flow views
are plain async Django views (they wait and stream), which drf-spectacular
cannot see; ``add_flow_paths`` is its postprocessing hook that adds them.
"""
from __future__ import annotations

import copy
import re
from typing import Any

from backend.engine.validation import BUDGET_SCHEMA

from .auth import api_key_security_scheme
from .calls import MAX_HEADER_ID, MODES
from .models import Endpoint
from .snippets import example_input

SECURITY = "ApiKeyBearer"
ERROR_CODES = {
    "400": "Invalid body, input (each problem with its path), budget, callback_url or header; nothing was started.",
    "401": "No API key, an unknown one, or a revoked one.",
    "403": "The key is scoped to other endpoints.",
    "404": "No published flow by this name for this key (unknown, unpublished, or another workspace's).",
    "409": "The Idempotency-Key was used before with a different body.",
    "413": "The body or the input is larger than the server accepts.",
    "429": "Rate limit or daily spend cap of the key reached; see Retry-After. Nothing was started.",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _id_header(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": False, "description": description,
            "schema": {"type": "string", "minLength": 1, "maxLength": MAX_HEADER_ID, "pattern": "^[!-~]+$"}}


def output_schema(spec: dict[str, Any] | None) -> dict[str, Any]:
    """What the flow returns, as far as the output node tells: an object with its keys, or any JSON value."""
    for node in (spec or {}).get("nodes") or []:
        if isinstance(node, dict) and node.get("type") == "output":
            value = (node.get("config") or {}).get("value")
            if isinstance(value, dict) and value:
                return {"type": "object", "properties": {str(k): {} for k in value},
                        "description": "The graph's output node, key by key."}
    return {"description": "The graph's output: whatever its output node returns."}


def components(input_schema: dict[str, Any], output: dict[str, Any]) -> dict[str, Any]:
    usage = {"type": "object", "required": ["input_tokens", "output_tokens", "tokens", "cost_usd", "llm_calls"],
             "properties": {"input_tokens": {"type": "integer"}, "output_tokens": {"type": "integer"},
                            "tokens": {"type": "integer"}, "cost_usd": {"type": "number"},
                            "llm_calls": {"type": "integer"}}}
    status = {"type": "string", "enum": ["queued", "running", "succeeded", "failed", "budget_exceeded", "cancelled"]}
    links = {"type": "object", "properties": {"status": {"type": "string"}, "events": {"type": "string"}}}
    return {
        "FlowInput": input_schema,
        "FlowOutput": output,
        "FlowBudget": {**copy.deepcopy(BUDGET_SCHEMA),
                       "description": "Tightens the graph's own budget limit by limit; it can never loosen it."},
        "FlowCall": {
            "type": "object", "required": ["input"], "additionalProperties": False,
            "properties": {
                "input": _ref("FlowInput"),
                "mode": {"type": "string", "enum": list(MODES), "default": "sync",
                         "description": "sync: wait for the result (202 with the run id past the sync timeout); "
                                        "async: 202 at once; stream: Server-Sent Events ending with the result."},
                "budget": _ref("FlowBudget"),
                "callback_url": {"type": "string", "format": "uri", "maxLength": 2000,
                                 "description": "HTTPS URL that receives the result, signed with the endpoint's "
                                                "signing secret (Patchbay-Signature: t=…,v1=HMAC-SHA256)."},
                "timeout_s": {"type": "number", "exclusiveMinimum": 0,
                              "description": "How long a sync call waits, at most the server's sync timeout."},
                "fresh": {"type": "boolean", "default": False,
                          "description": "Skip the cache: every model call is made (and its answer cached)."},
            },
        },
        "FlowUsage": usage,
        "FlowResult": {
            "type": "object",
            "required": ["run_id", "status", "output", "error", "usage", "engine_ms", "total_ms", "latency_ms",
                         "version", "trace_id"],
            "properties": {
                "run_id": {"type": "string", "format": "uuid"}, "status": status,
                "output": {"anyOf": [_ref("FlowOutput"), {"type": "null"}]},
                "error": {"type": ["string", "null"]}, "usage": _ref("FlowUsage"),
                "engine_ms": {"type": ["number", "null"], "description": "Time inside the engine, first step "
                              "to last."},
                "total_ms": {"type": ["number", "null"], "description": "From accepted to finished, queue wait "
                             "included."},
                "latency_ms": {"type": ["number", "null"], "deprecated": True,
                               "description": "Alias of total_ms (from accepted to finished)."},
                "version": {"type": "integer", "description": "The graph version that ran."},
                "trace_id": {"type": "string"}, "request_id": {"type": ["string", "null"]},
                "created_at": {"type": "string", "format": "date-time"},
                "finished_at": {"type": ["string", "null"], "format": "date-time"}, "links": links,
            },
        },
        "FlowAccepted": {
            "type": "object", "required": ["run_id", "status", "status_url", "events_url"],
            "properties": {"run_id": {"type": "string", "format": "uuid"}, "status": status,
                           "status_url": {"type": "string"}, "events_url": {"type": "string"},
                           "request_id": {"type": ["string", "null"]}, "message": {"type": "string"}},
        },
        "FlowError": {
            "type": "object", "required": ["error", "message", "problems"],
            "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                           "problems": {"type": "array", "items": {
                               "type": "object", "properties": {"path": {"type": "string"},
                                                                "message": {"type": "string"}}}}},
        },
    }


def _errors(*codes: str) -> dict[str, Any]:
    return {code: {"description": ERROR_CODES.get(code, "Refused."),
                   "content": {"application/json": {"schema": _ref("FlowError")}}} for code in codes}


def _sse(description: str) -> dict[str, Any]:
    return {"text/event-stream": {"schema": {"type": "string", "description": description}}}


def paths(run_path: str, path_parameters: list[dict[str, Any]], operation_id: str,
          example: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"schema": _ref("FlowCall")}
    if example is not None:
        body["example"] = {"input": example}
    run_id = {"name": "run_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
    security: list[dict[str, list[str]]] = [{SECURITY: []}]
    return {
        run_path: {"post": {
            "operationId": operation_id, "tags": ["flows"], "security": security,
            "summary": "Run the published flow",
            "parameters": [*path_parameters,
                           _id_header("Idempotency-Key", "A retry with the same key and body returns the first "
                                      "run; a different body is 409. Kept 24 hours."),
                           _id_header("X-Request-Id", "Your id for this request: stored on the run and echoed.")],
            "requestBody": {"required": True, "content": {"application/json": body}},
            "responses": {
                "200": {"description": "sync: the finished run. stream: Server-Sent Events (one per run event, "
                                       "`id` = its seq) ending with `event: result`.",
                        "content": {"application/json": {"schema": _ref("FlowResult")},
                                    **_sse("Server-Sent Events")}},
                "202": {"description": "async, or sync past the timeout: the run is accepted and going.",
                        "content": {"application/json": {"schema": _ref("FlowAccepted")}}},
                **_errors("400", "401", "403", "404", "409", "413", "429"),
            },
        }},
        "/api/v1/runs/{run_id}": {"get": {
            "operationId": f"{operation_id}_status" if example is not None else "flow_run_status",
            "tags": ["flows"], "security": security, "summary": "A run started with a key of this workspace",
            "parameters": [run_id],
            "responses": {"200": {"description": "The run now.",
                                  "content": {"application/json": {"schema": _ref("FlowResult")}}},
                          **_errors("401", "404")},
        }},
        "/api/v1/runs/{run_id}/events": {"get": {
            "operationId": f"{operation_id}_events" if example is not None else "flow_run_events",
            "tags": ["flows"], "security": security,
            "summary": "The run's events as Server-Sent Events, from after a seq (Last-Event-ID or ?after=)",
            "parameters": [run_id,
                           {"name": "after", "in": "query", "required": False, "schema": {"type": "integer",
                                                                                          "minimum": 0}},
                           {"name": "Last-Event-ID", "in": "header", "required": False,
                            "schema": {"type": "string", "pattern": "^[0-9]+$", "maxLength": 9}}],
            "responses": {"200": {"description": "Stored events after the cursor, then live ones, then the "
                                                 "result.", "content": _sse("Server-Sent Events")},
                          **_errors("400", "401", "404")},
        }},
    }


def operation_name(slug: str) -> str:
    return "run_" + re.sub(r"[^a-zA-Z0-9]+", "_", slug).strip("_")


def flow_document(endpoint: Endpoint, server_url: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of one published flow: its input schema, its output, its calls."""
    spec = endpoint.version.spec if endpoint.version else {}
    input_schema = spec.get("inputs") or {"type": "object"}
    example = example_input(input_schema)
    version = endpoint.version.number if endpoint.version else 0
    description = spec.get("description") or endpoint.description or ""
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{endpoint.graph.name} — flow '{endpoint.slug}'", "version": f"v{version}",
                 "description": (description + "\n\n" if description else "") +
                 f"Runs version {version} of the graph. Authenticate with an API key of the workspace: "
                 "`Authorization: Bearer pbk_…`."},
        "servers": [{"url": server_url.rstrip("/")}],
        "security": [{SECURITY: []}],
        "paths": paths(f"/api/v1/flows/{endpoint.slug}/run", [], operation_name(endpoint.slug), example),
        "components": {"schemas": components(copy.deepcopy(input_schema), output_schema(spec)),
                       "securitySchemes": {SECURITY: api_key_security_scheme()}},
    }


def add_flow_paths(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: document the flow calls next to the rest of the API."""
    slug = {"name": "slug", "in": "path", "required": True,
            "schema": {"type": "string", "pattern": "^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"},
            "description": "The endpoint's slug."}
    result.setdefault("paths", {}).update(paths("/api/v1/flows/{slug}/run", [slug], "flow_run"))
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(components({"description": "The flow's input; see the flow's own OpenAPI document "
                                              "(/api/v1/flows/{slug}/openapi.json) for its schema."},
                              output_schema(None)))
    result["components"].setdefault("securitySchemes", {})[SECURITY] = api_key_security_scheme()
    return result
