"""Node configs are typed once, with defaults from the node type's JSON schema only."""
from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from backend.engine.nodes import NODE_TYPES
from backend.engine.nodes.base import parse_config, schema_defaults
from backend.engine.nodes.vote import VoteConfig

NODES_DIR = Path(__file__).resolve().parents[2] / "backend" / "engine" / "nodes"
TYPED = {name: t for name, t in NODE_TYPES.items() if hasattr(t, "parse")}


def test_defaults_come_from_the_schema() -> None:
    schema = NODE_TYPES["vote"].config_schema
    assert schema_defaults(schema) == {"samples": 5, "aggregate": "majority", "tie": "first", "timeout_s": 60}
    config = parse_config(VoteConfig, schema, {"step": {"model": "fast", "prompt": "hi"}, "samples": 3})
    assert config.samples == 3  # what the user wrote wins
    assert (config.aggregate, config.tie, config.timeout_s, config.k) == ("majority", "first", 60, None)


def test_a_default_is_copied_not_shared() -> None:
    schema = {"properties": {"xs": {"type": "array", "default": []}}}
    first = schema_defaults(schema)["xs"]
    first.append(1)
    assert schema_defaults(schema)["xs"] == []


def test_the_types_with_defaults_have_a_typed_config() -> None:
    with_defaults = {name for name, t in NODE_TYPES.items() if schema_defaults(t.config_schema)}
    assert with_defaults <= set(TYPED)
    assert {"vote", "router", "gate", "parallel", "orchestrator", "evaluator_optimizer", "llm"} <= set(TYPED)


@pytest.mark.parametrize("type_name", sorted(TYPED))
def test_each_config_field_is_a_schema_property_and_gets_its_default(type_name: str) -> None:
    node_type = TYPED[type_name]
    properties = node_type.config_schema["properties"]
    parsed = node_type.parse({})
    for field in dataclasses.fields(parsed):
        assert field.name in properties, f"{type_name}.{field.name} is not in the schema"
        assert getattr(parsed, field.name) == properties[field.name].get("default")


def test_no_node_module_writes_a_schema_default_again() -> None:
    """`config.get("samples", 5)` would be a second copy of a default the schema already holds."""
    keys = {key for t in NODE_TYPES.values() for key in schema_defaults(t.config_schema)}
    offenders = []
    for path in sorted(NODES_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                    and len(node.args) == 2 and isinstance(node.args[0], ast.Constant)
                    and node.args[0].value in keys and isinstance(node.args[1], ast.Constant)):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []
