"""The move of a run's caller (API key, request id) from ``runs.Run`` to ``endpoints.EndpointCall`` keeps every
value: runs with a call record get theirs filled in, older endpoint runs without one get one, and migrating back
puts the values on the runs again."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("endpoints", "0002_endpoint_call"), ("runs", "0008_run_resolved_and_finish_hook")]
AFTER = [("endpoints", "0004_endpoint_call_caller_data"), ("runs", "0009_run_callers_moved_to_endpoint_call")]


def migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_schema() -> Any:
    apps = migrate(BEFORE)
    yield apps
    migrate([key for key in MigrationExecutor(connection).loader.graph.leaf_nodes()])  # back to the latest


def test_callers_move_to_their_call_records_and_back(old_schema: Any) -> None:
    apps = old_schema
    User, Workspace = apps.get_model("auth", "User"), apps.get_model("graphs", "Workspace")
    Graph, GraphVersion = apps.get_model("graphs", "Graph"), apps.get_model("graphs", "GraphVersion")
    Endpoint, ApiKey = apps.get_model("endpoints", "Endpoint"), apps.get_model("endpoints", "ApiKey")
    EndpointCall, Run = apps.get_model("endpoints", "EndpointCall"), apps.get_model("runs", "Run")

    user = User.objects.create(username="mig")
    workspace = Workspace.objects.create(name="w")
    graph = Graph.objects.create(workspace=workspace, name="g", created_by=user)
    version = GraphVersion.objects.create(graph=graph, number=1, spec={}, content_hash="c" * 64, author=user)
    endpoint = Endpoint.objects.create(workspace=workspace, graph=graph, slug="mig-ask", version=version,
                                       enabled=True, signing_secret="s" * 32)
    key = ApiKey.objects.create(workspace=workspace, name="k", prefix="pb_mig", secret_hash="h" * 64)

    def run(**fields: Any) -> Any:
        return Run.objects.create(workspace=workspace, graph=graph, graph_version=version, input={},
                                  trace_id=uuid.uuid4().hex, **fields)

    recorded = run(source="endpoint", api_key=key, request_id="req-recorded")
    EndpointCall.objects.create(endpoint=endpoint, run=recorded)
    older = run(source="openai", api_key=key, request_id="req-older")  # from before call records existed
    canvas = run(source="canvas")

    apps = migrate(AFTER)
    EndpointCall = apps.get_model("endpoints", "EndpointCall")
    calls = {str(c.run_id): c for c in EndpointCall.objects.all()}
    assert set(calls) == {str(recorded.pk), str(older.pk)}  # the canvas run had no caller
    assert (calls[str(recorded.pk)].api_key_id, calls[str(recorded.pk)].request_id) == (key.pk, "req-recorded")
    assert (calls[str(older.pk)].api_key_id, calls[str(older.pk)].request_id) == (key.pk, "req-older")
    assert calls[str(older.pk)].endpoint_id == endpoint.pk
    assert calls[str(older.pk)].created_at == older.created_at
    assert not hasattr(apps.get_model("runs", "Run")(), "request_id")

    apps = migrate(BEFORE)
    Run = apps.get_model("runs", "Run")
    back = {str(r.pk): (r.api_key_id, r.request_id) for r in Run.objects.all()}
    assert back == {str(recorded.pk): (key.pk, "req-recorded"), str(older.pk): (key.pk, "req-older"),
                    str(canvas.pk): (None, "")}
