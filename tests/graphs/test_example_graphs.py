"""Every example graph in graphs/ validates and runs offline on the demo models."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from backend.engine import ValidationContext, execute_graph, parse_graph, validate_graph
from backend.engine.ports import Ports
from backend.providers.defaults import DEFAULT_ROUTES
from backend.providers.gateway import LiteLLMGateway

GRAPHS = sorted((Path(__file__).resolve().parents[2] / "graphs").glob("*.json"))

# An example input per graph, from its schema's "examples" or a generic one.
GENERIC_INPUT = {"text": "I was charged twice for my subscription; please refund the second payment."}


async def demo_route(alias: str):  # type: ignore[no-untyped-def]
    return DEFAULT_ROUTES[alias]


@pytest.mark.parametrize("path", GRAPHS, ids=[p.stem for p in GRAPHS])
def test_example_graph_validates_and_runs(path: Path) -> None:
    doc = json.loads(path.read_text())
    assert validate_graph(doc, ValidationContext(model_aliases=set(DEFAULT_ROUTES))) == []
    example = (doc.get("inputs", {}).get("examples") or [GENERIC_INPUT])[0]
    result = asyncio.run(execute_graph(parse_graph(doc), example, ports=Ports(llm=LiteLLMGateway(demo_route))))
    assert result.status == "succeeded", result.error
    assert result.output is not None
    assert all(s.status in ("succeeded", "skipped") for s in result.spans)


def test_chain_exits_early_when_nothing_was_extracted() -> None:
    doc = json.loads((GRAPHS[0].parent / "chain.json").read_text())
    result = asyncio.run(execute_graph(parse_graph(doc), {"text": "   "}, ports=Ports(llm=LiteLLMGateway(demo_route))))
    assert result.status == "succeeded"
    assert result.output["exited_early"] is True and result.output["node"] == "has_items"
    skipped = {s.node_id for s in result.spans if s.status == "skipped"}
    assert {"classify", "summarize", "format", "output"} <= skipped
