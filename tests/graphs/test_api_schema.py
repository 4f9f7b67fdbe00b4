"""The whole-API OpenAPI document describes the graph, run and model endpoints' bodies, not just their paths."""
from __future__ import annotations


def test_graph_run_and_model_operations_are_documented_with_bodies(alice_api) -> None:  # type: ignore[no-untyped-def]
    document = alice_api.get("/api/schema/?format=json").json()
    paths = document["paths"]
    create = paths["/api/graphs/"]["post"]
    assert create["operationId"] == "graphs_create" and "requestBody" in create
    assert {"201", "400"} <= set(create["responses"])
    run = paths["/api/runs/{run_id}/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert run["$ref"].endswith("/RunDetailOut")
    span = document["components"]["schemas"]["SpanOut"]["properties"]
    assert {"input_tokens", "output_tokens", "cost_usd", "attributes"} <= set(span)
    assert "requestBody" in paths["/api/models/{alias}/"]["patch"]
    operation_ids = [op["operationId"] for item in paths.values() for op in item.values() if isinstance(op, dict)]
    assert len(operation_ids) == len(set(operation_ids))
