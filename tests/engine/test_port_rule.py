"""Out-ports come from one rule: the engine and the canvas run the same cases."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend.engine.nodes import NODE_TYPES, catalogue

SHARED = json.loads((Path(__file__).resolve().parents[2] / "frontend/src/graph-core/portCases.json").read_text())
CASES = SHARED["cases"]


@pytest.mark.parametrize("case", CASES, ids=[f"{c['type']}-{i}" for i, c in enumerate(CASES)])
def test_the_engine_derives_the_ports_the_canvas_expects(case: dict) -> None:
    assert NODE_TYPES[case["type"]].out_ports(case["config"]) == case["ports"]


def test_the_catalogue_carries_the_rule_for_every_type() -> None:
    entries = {e["type"]: e for e in catalogue()}
    assert set(entries) == set(NODE_TYPES)
    assert entries["router"]["ports_from_config"] == "routes[].label"
    assert entries["router"]["out_ports"] == ["default"]
    for name, entry in entries.items():
        # The catalogue alone is enough to compute a type's ports for a config without ports.
        assert NODE_TYPES[name].out_ports({}) == entry["out_ports"]


def test_the_canvas_cases_run_on_the_catalogue_the_api_serves() -> None:
    served = {e["type"]: {"out_ports": e["out_ports"], "ports_from_config": e["ports_from_config"]}
              for e in catalogue()}
    assert SHARED["catalogue"] == served
