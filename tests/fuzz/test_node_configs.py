"""Node configs shaped by each type's config schema (as /api/node-types/ serves it), then mutated."""
from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.engine.nodes import NODE_TYPES
from backend.graphs.models import Graph, GraphVersion

from .checks import assert_answer
from .conftest import fuzz
from .strategies import shaped_then_mutated

pytestmark = pytest.mark.django_db


def graph_with(node_type: str, config: Any) -> dict[str, Any]:
    """input → the node → output; an input or output node carries the config itself."""
    nodes = [{"id": "in", "type": "input"}, {"id": "out", "type": "output"}]
    if node_type in ("input", "output"):
        nodes[0 if node_type == "input" else 1]["config"] = config
        return {"schema": "patchbay.graph/v1", "name": "fuzz", "nodes": nodes, "edges": [{"from": "in", "to": "out"}]}
    nodes.insert(1, {"id": "n", "type": node_type, "config": config})
    return {"schema": "patchbay.graph/v1", "name": "fuzz", "nodes": nodes,
            "edges": [{"from": "in", "to": "n"}, {"from": "n", "to": "out"}]}


_served: dict[str, dict[str, Any]] = {}
_strategies: dict[str, st.SearchStrategy[Any]] = {}


def configs(api: Any, node_type: str) -> st.SearchStrategy[Any]:
    """The type's config schema as /api/node-types/ serves it (read once), as a strategy (built once)."""
    if not _served:
        _served.update({entry["type"]: entry for entry in api.get("/api/node-types/").json()})
    if node_type not in _strategies:
        _strategies[node_type] = shaped_then_mutated(_served[node_type]["config_schema"])
    return _strategies[node_type]


@fuzz
@given(data=st.data(), node_type=st.sampled_from(sorted(NODE_TYPES)), save=st.booleans())
def test_node_configs_never_500_nor_save_in_part(alice_api, data: st.DataObject, node_type: str, save: bool) -> None:  # type: ignore[no-untyped-def]
    config = data.draw(configs(alice_api, node_type), label="config")
    spec = graph_with(node_type, config)
    before = Graph.objects.count(), GraphVersion.objects.count()
    response = alice_api.post("/api/graphs/" if save else "/api/graphs/validate/", {"spec": spec}, format="json")
    assert_answer(response, f"{node_type} config {json.dumps(config)[:2000]}")
    after = Graph.objects.count(), GraphVersion.objects.count()
    if save and response.status_code == 201:
        assert after == (before[0] + 1, before[1] + 1)
    else:
        assert after == before
