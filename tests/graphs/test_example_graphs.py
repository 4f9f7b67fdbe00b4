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
    # Warnings too: the examples are what people copy, so their joins are the ones that hold on every path.
    assert validate_graph(doc, ValidationContext(model_aliases=set(DEFAULT_ROUTES)), warnings=True) == []
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


def run_example(name: str, input: dict | None = None):  # type: ignore[no-untyped-def]
    doc = json.loads((GRAPHS[0].parent / f"{name}.json").read_text())
    value = input if input is not None else doc["inputs"]["examples"][0]
    return asyncio.run(execute_graph(parse_graph(doc), value, ports=Ports(llm=LiteLLMGateway(demo_route))))


def node(result, node_id: str):  # type: ignore[no-untyped-def]
    return next(s for s in result.spans if s.kind == "node" and s.node_id == node_id)


@pytest.mark.parametrize("message, route", [
    ("I was charged twice, please refund me", "billing"),
    ("The app shows an error when I log in", "technical"),
    ("This is unacceptable, the worst service ever", "complaint"),
    ("Hello there", "default"),
])
def test_routing_routes_by_content_and_records_route_and_confidence(message: str, route: str) -> None:
    result = run_example("routing", {"message": message})
    attributes = node(result, "triage").attributes
    assert attributes["patchbay.router.route"] == route and result.output["route"] == route
    assert 0 <= attributes["patchbay.router.confidence"] <= 1
    taken = {"billing": "billing_reply", "technical": "technical_reply", "complaint": "complaint_reply",
             "default": "general_reply"}[route]
    assert [s.node_id for s in result.spans if s.node_id.endswith("_reply") and s.kind == "node"
            and s.status == "succeeded"] == [taken]


def test_sectioning_reads_the_fields_in_overlapping_branches() -> None:
    result = run_example("sectioning")
    assert result.output == {"vendor": "Acme Widgets", "amount": 1299.5, "due": "2026-12-15"}
    branches = [s for s in result.spans if s.kind == "branch"]
    assert len(branches) == 3 and max(s.started_at for s in branches) < min(s.ended_at for s in branches)


def test_voting_records_samples_winner_and_agreement() -> None:
    result = run_example("voting")
    attributes = node(result, "is_safe").attributes
    assert len(attributes["patchbay.vote.samples"]) == 5
    assert attributes["patchbay.vote.winner"] == "unsafe" and attributes["patchbay.vote.agreement"] == 0.8
    assert result.output["verdict"] == "unsafe"


def test_orchestrator_plans_then_runs_at_most_max_workers() -> None:
    result = run_example("orchestrator")
    assert len([s for s in result.spans if s.kind == "plan"]) == 1
    workers = [s for s in result.spans if s.kind == "worker"]
    assert 1 <= len(workers) <= 5 and result.output["sections"][0].startswith("Market position")


def test_evaluator_fails_the_first_draft_and_passes_the_revision() -> None:
    result = run_example("evaluator_optimizer")
    assert result.output["verdict"] == "passed" and result.output["rounds"] == 2
    rounds = [s for s in result.spans if s.kind == "iteration"]
    assert [r.output["pass"] for r in rounds] == [False, True]


@pytest.mark.parametrize("index, route", [(0, "high_stakes"), (1, "qa"), (2, "research")])
def test_production_system_composes_the_patterns(index: int, route: str) -> None:
    doc = json.loads((GRAPHS[0].parent / "production_system.json").read_text())
    result = run_example("production_system", doc["inputs"]["examples"][index])
    assert result.status == "succeeded" and result.output["route"] == route and result.output["answer"]
    if route == "qa":
        sub = node(result, "qa")
        nested = {s.node_id for s in result.spans if s.parent_id == sub.span_id}
        assert {"qa/rewrite", "qa/answer", "qa/format"} <= nested
    if route == "high_stakes":
        assert node(result, "careful").attributes["patchbay.eo.iterations"] <= 2
