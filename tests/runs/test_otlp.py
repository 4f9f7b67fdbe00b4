"""A run as OTLP: the export parses with opentelemetry-proto, and a push reaches a real receiver over HTTP."""
from __future__ import annotations

import base64
import copy
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span as OtlpSpan

from backend.config.env import env_headers
from backend.graphs.models import Graph
from backend.providers.models import ModelAlias
from backend.providers.secrets import encrypt_secret
from backend.runs.liveness import enqueued_key
from backend.runs.models import Run, Span
from backend.runs.otlp_push import traces_url
from backend.runs.worker_cmd import worker_argv

from ..conftest import ROOT, _Tail
from ..endpoint_calls import record_endpoint_call
from .live import create_graph, start_run, wait_finished

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

PROVIDER_KEY = "sk-otlp-never-exported-6d1f"
CHAIN = {
    "schema": "patchbay.graph/v1", "name": "exported",
    "nodes": [{"id": "in", "type": "input"},
              {"id": "draft", "type": "llm", "config": {"model": "keyed", "prompt": "draft {{ input.topic }}"}},
              {"id": "polish", "type": "llm", "config": {"model": "fast", "prompt": "polish {{ nodes.draft.output }}"}},
              {"id": "out", "type": "output", "config": {"value": "{{ nodes.polish.output }}"}}],
    "edges": [{"from": "in", "to": "draft"}, {"from": "draft", "to": "polish"}, {"from": "polish", "to": "out"}],
}
GEN_AI = {"gen_ai.operation.name", "gen_ai.system", "gen_ai.request.model", "gen_ai.response.model",
          "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "patchbay.cost_usd"}


def keyed_alias() -> None:
    ModelAlias.objects.create(alias="keyed", model="demo/keyed", api_key_encrypted=encrypt_secret(PROVIDER_KEY))


def parse_otlp_json(doc: dict[str, Any]) -> ExportTraceServiceRequest:
    """OTLP/JSON writes ids as hex; protobuf's JSON parser reads bytes as base64: convert, then parse."""
    doc = copy.deepcopy(doc)
    for resource in doc["resourceSpans"]:
        for scope in resource["scopeSpans"]:
            for span in scope["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
    return json_format.Parse(json.dumps(doc), ExportTraceServiceRequest())


def attrs(span: OtlpSpan) -> dict[str, Any]:
    out = json_format.MessageToDict(span)
    return {a["key"]: next(iter(a["value"].values())) for a in out.get("attributes", [])}


def check_spans(request: ExportTraceServiceRequest, run: Run) -> None:
    """One OTLP span per stored span (every node and model call), parents as in the trace, GenAI attributes."""
    spans = [s for r in request.resource_spans for sc in r.scope_spans for s in sc.spans]
    stored = {s.span_id: s for s in Span.objects.filter(run=run)}
    assert sorted(s.span_id.hex() for s in spans) == sorted(stored)
    nodes = {s.node_id for s in stored.values() if s.kind == "node"}
    assert nodes == {"in", "draft", "polish", "out"}
    calls = [s for s in spans if stored[s.span_id.hex()].kind == "llm"]
    assert len(calls) == 2
    for span in spans:
        assert span.trace_id.hex() == run.trace_id
        assert span.parent_span_id.hex() == stored[span.span_id.hex()].parent_id
    for call in calls:
        values = attrs(call)
        assert GEN_AI <= set(values), GEN_AI - set(values)
        assert values["gen_ai.operation.name"] == "chat" and int(values["gen_ai.usage.output_tokens"]) > 0
        assert stored[call.parent_span_id.hex()].kind == "node"  # a model call sits under its node
        assert call.kind == OtlpSpan.SPAN_KIND_CLIENT
    by_node = {stored[c.span_id.hex()].node_id: attrs(c) for c in calls}
    assert by_node["draft"]["gen_ai.request.model"] == "demo/keyed"  # the alias resolved, from Run.resolved
    assert by_node["polish"]["gen_ai.system"] == "demo"
    resource = {a.key: a.value for a in request.resource_spans[0].resource.attributes}
    assert resource["patchbay.run.id"].string_value == str(run.pk)
    assert resource["service.name"].string_value == "patchbay"


def test_the_export_is_otlp_json_with_a_span_per_node_and_model_call(live_stack, alice_api, bob_api) -> None:  # type: ignore[no-untyped-def]
    keyed_alias()
    run_id = start_run(alice_api, create_graph(alice_api, CHAIN), {"topic": "otters"})
    run = wait_finished(run_id)
    assert run.status == "succeeded", run.error
    response = alice_api.get(f"/api/runs/{run_id}/otlp")
    assert response.status_code == 200
    assert PROVIDER_KEY not in response.content.decode()
    doc = response.json()
    first = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert len(first["traceId"]) == 32 and len(first["spanId"]) == 16  # hex, as OTLP/JSON says
    assert isinstance(first["kind"], int)  # enums as integers, as OTLP/JSON says
    check_spans(parse_otlp_json(doc), run)
    assert bob_api.get(f"/api/runs/{run_id}/otlp").status_code == 404  # another workspace's run


def _start_receiver(tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path, int]:
    port_file, out = tmp_path / "port", tmp_path / "received.jsonl"
    receiver = subprocess.Popen([sys.executable, "-m", "tests.runs.otlp_receiver", str(port_file), str(out)],
                                cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 20
    while not port_file.exists() or not port_file.read_text():
        assert receiver.poll() is None and time.monotonic() < deadline, "the receiver did not start"
        time.sleep(0.05)
    return receiver, out, int(port_file.read_text())


def test_a_finished_run_is_pushed_to_an_otlp_receiver(alice_api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A real worker (configured with PATCHBAY_OTLP_ENDPOINT) runs the graph; a receiver process gets the trace."""
    from backend.runs.tasks import execute_run

    keyed_alias()
    receiver, out, port = _start_receiver(tmp_path)
    graph = Graph.objects.get(pk=create_graph(alice_api, CHAIN))
    queue = f"pb-otlp-{os.getpid()}"
    db = connection.settings_dict
    env = {**os.environ, "PATCHBAY_QUEUE": queue, "PYTHONPATH": str(ROOT),
           "PATCHBAY_OTLP_ENDPOINT": f"http://127.0.0.1:{port}", "PATCHBAY_OTLP_HEADERS": "x-collector-token=t0k",
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"}
    log: list[str] = []
    worker = subprocess.Popen(worker_argv(concurrency=4, hostname=f"otlp-{os.getpid()}@%h", heartbeat=False),
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    _Tail(worker.stdout, log).start()
    try:
        deadline = time.monotonic() + 90
        while not any(" ready." in line for line in log):
            assert time.monotonic() < deadline and worker.poll() is None, "\n".join(log[-40:])
            time.sleep(0.1)
        # Created once the worker is ready and marked enqueued (as enqueue_run does), so the session worker's
        # sweep never takes it for a run whose message was lost.
        run = Run.objects.create(workspace=graph.workspace, graph=graph, graph_version=graph.latest_version,
                                 input={"topic": "otters"}, trace_id="e" * 32)
        record_endpoint_call(run.pk, request_id="req-otlp-1")
        redis.Redis.from_url(settings.REDIS_URL).set(enqueued_key(run.pk), "1", ex=120)
        execute_run.apply_async((str(run.pk),), queue=queue)
        while not out.exists() or not out.read_text().strip():
            assert time.monotonic() < deadline and worker.poll() is None, (
                Run.objects.filter(pk=run.pk).values("status", "error", "finish_notified").first(), log[-20:])
            time.sleep(0.1)
        time.sleep(0.5)  # a second push would land by now
    finally:
        for process in (worker, receiver):
            process.terminate()
        for process in (worker, receiver):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        redis.Redis.from_url(settings.REDIS_URL).delete(queue)
    text = out.read_text()
    assert PROVIDER_KEY not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 1, "the hook fired once, so the run was pushed once"
    got = lines[0]
    assert got["path"] == "/v1/traces" and got["content_type"] == "application/x-protobuf"
    assert got["headers"]["x-collector-token"] == "t0k"
    run.refresh_from_db()
    assert run.status == "succeeded" and run.finish_notified
    check_spans(json_format.ParseDict(got["request"], ExportTraceServiceRequest()), run)
    resource = {a["key"]: a["value"] for a in got["request"]["resourceSpans"][0]["resource"]["attributes"]}
    assert resource["patchbay.request_id"] == {"stringValue": "req-otlp-1"}


def test_otlp_settings_follow_the_otlp_exporter_conventions(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert traces_url("http://collector:4318") == "http://collector:4318/v1/traces"
    assert traces_url("http://collector:4318/v1/traces/") == "http://collector:4318/v1/traces"
    monkeypatch.setenv("PB_TEST_HEADERS", "Authorization=Bearer abc, x-team = ops")
    assert env_headers("PB_TEST_HEADERS") == {"Authorization": "Bearer abc", "x-team": "ops"}
    monkeypatch.setenv("PB_TEST_HEADERS", "x-ok=1,sk-lonely-secret")
    with pytest.raises(ImproperlyConfigured) as refused:
        env_headers("PB_TEST_HEADERS")
    assert "entry 2" in str(refused.value) and "sk-lonely-secret" not in str(refused.value)
