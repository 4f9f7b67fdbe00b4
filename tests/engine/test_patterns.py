"""The five patterns as nodes, with a scripted model: the facts each records, and how each fails.

Runs are in virtual time (virtual_time.py): latencies, hangs and timeouts are exact and cost no wall time.
"""
from __future__ import annotations

import asyncio
import json

from backend.engine import ValidationContext, execute_graph, parse_graph, validate_graph
from backend.engine.ports import CollectingEvents, LLMRequest, Ports

from .scripted import ScriptedLLM, graph
from .virtual_time import VirtualClock, run_virtual

INPUT = {"id": "in", "type": "input"}


def out(value: object) -> dict:
    return {"id": "out", "type": "output", "config": {"value": value}}


def run(doc: dict, model: ScriptedLLM, input: object = None, subgraphs: dict | None = None):  # type: ignore[no-untyped-def]
    problems = validate_graph(doc, ValidationContext(subgraphs=subgraphs))
    assert problems == [], problems
    events = CollectingEvents()
    ports = Ports(llm=model, events=events, clock=VirtualClock())
    result = run_virtual(execute_graph(parse_graph(doc), input if input is not None else {"text": "hi"},
                                       ports=ports, subgraphs=subgraphs))
    return result, events.events


def spans(result, kind: str) -> list:  # type: ignore[no-untyped-def]
    return [s for s in result.spans if s.kind == kind]


def node_span(result, node_id: str):  # type: ignore[no-untyped-def]
    return next(s for s in result.spans if s.kind == "node" and s.node_id == node_id)


def overlapping(group: list) -> bool:
    """Every span in the group was running at one common moment."""
    return max(s.started_at for s in group) < min(s.ended_at for s in group)


# --- router ---------------------------------------------------------------------------------------

def router_graph(**config: object) -> dict:
    router = {"id": "r", "type": "router", "config": {
        "classifier": {"model": "fast"}, "routes": [{"label": "billing"}, {"label": "technical"}], **config}}
    return graph([INPUT, router, {"id": "b", "type": "transform", "config": {"value": "B"}},
                  {"id": "t", "type": "transform", "config": {"value": "T"}},
                  {"id": "d", "type": "transform", "config": {"value": "D"}},
                  out("{{ nodes.r.output.route }}")],
                 [{"from": "in", "to": "r"}, {"from": "r", "port": "billing", "to": "b"},
                  {"from": "r", "port": "technical", "to": "t"}, {"from": "r", "port": "default", "to": "d"},
                  {"from": "b", "to": "out"}, {"from": "t", "to": "out"}, {"from": "d", "to": "out"}])


def classifier(label: str, confidence: float) -> ScriptedLLM:
    return ScriptedLLM(answer=lambda r: json.dumps({"label": label, "confidence": confidence}))


def test_router_takes_the_chosen_route_records_it_and_skips_the_others() -> None:
    result, _ = run(router_graph(), classifier("technical", 0.9))
    assert result.output == "technical"
    span = node_span(result, "r")
    assert span.attributes["patchbay.router.label"] == "technical"
    assert span.attributes["patchbay.router.confidence"] == 0.9
    assert span.attributes["patchbay.router.default_taken"] is False
    assert node_span(result, "b").status == "skipped" and node_span(result, "d").status == "skipped"
    assert node_span(result, "t").status == "succeeded"


def test_router_falls_back_to_default_below_threshold_and_on_unknown_labels() -> None:
    low, _ = run(router_graph(threshold=0.8), classifier("billing", 0.6))
    assert low.output == "default" and "below" in node_span(low, "r").attributes["patchbay.router.reason"]
    unknown, _ = run(router_graph(), classifier("default", 0.99))
    assert unknown.output == "default"


def test_router_whose_model_errors_takes_the_default_route() -> None:
    result, _ = run(router_graph(), ScriptedLLM(fail_aliases={"fast"}))
    assert result.status == "succeeded" and result.output == "default"
    span = node_span(result, "r")
    assert span.attributes["patchbay.router.default_taken"] is True
    assert "classifier failed" in span.attributes["patchbay.router.reason"]


def test_router_timeout_takes_the_default_route_in_time() -> None:
    result, _ = run(router_graph(timeout_s=0.1), ScriptedLLM(latency_s=2, answer=lambda r: "{}"))
    assert result.output == "default" and "longer than 0.1 s" in node_span(result, "r").attributes[
        "patchbay.router.reason"]
    assert result.totals["duration_ms"] < 2000  # it did not wait for the 2 s answer


def test_rules_router_routes_by_keyword_without_a_model() -> None:
    doc = router_graph(mode="rules", routes=[{"label": "billing", "keywords": ["refund"]},
                                             {"label": "technical", "pattern": r"\berror\b"}])
    del doc["nodes"][1]["config"]["classifier"]
    model = ScriptedLLM()
    assert run(doc, model, {"text": "a refund please"})[0].output == "billing"
    assert run(doc, model, {"text": "I get an ERROR"})[0].output == "technical"
    assert run(doc, model, {"text": "hello"})[0].output == "default"
    assert model.calls == []


def test_a_router_without_a_default_edge_is_refused() -> None:
    doc = router_graph()
    doc["edges"] = [e for e in doc["edges"] if e.get("port") != "default"]
    assert any("'default' route" in p.message for p in validate_graph(doc))


# --- parallel -------------------------------------------------------------------------------------

def parallel_graph(join: str = "require_all", timeouts: tuple = (None, None, None)) -> dict:
    branches = [{"name": name, "step": {"model": alias, "prompt": f"{name}: {{{{ input.text }}}}"},
                 **({"timeout_s": t} if t else {})}
                for name, alias, t in zip(("name", "amount", "date"), ("fast", "fast", "slow"), timeouts)]
    return graph([INPUT, {"id": "p", "type": "parallel", "config": {"branches": branches, "join": join}},
                  out("{{ nodes.p.output }}")], [{"from": "in", "to": "p"}, {"from": "p", "to": "out"}])


def test_parallel_branches_run_at_once_and_join_by_name() -> None:
    result, _ = run(parallel_graph(), ScriptedLLM(latency_s=0.2, answer=lambda r: r.messages[-1]["content"][:4]))
    assert result.output == {"name": "name", "amount": "amou", "date": "date"}
    branches = spans(result, "branch")
    assert len(branches) == 3 and overlapping(branches)


class SlowAlias(ScriptedLLM):
    async def complete(self, request: LLMRequest, on_delta=None):  # type: ignore[no-untyped-def]
        if request.alias == "slow":
            await asyncio.sleep(30)
        return await super().complete(request, on_delta)


def test_a_branch_that_hangs_is_cut_at_its_timeout_and_best_effort_keeps_the_rest() -> None:
    result, _ = run(parallel_graph("best_effort", (None, None, 0.3)), SlowAlias())
    assert result.totals["duration_ms"] < 30_000  # cut at 0.3 s, not after the 30 s hang
    assert result.status == "succeeded"
    assert result.output["date"] == {"error": "timed out after 0.3 s"} and result.output["name"] == "ok"
    assert node_span(result, "p").attributes["patchbay.parallel.failed"] == ["date"]
    assert [s.status for s in spans(result, "branch") if s.name == "date"] == ["cancelled"]


def test_require_all_fails_the_node_when_a_branch_fails() -> None:
    result, _ = run(parallel_graph("require_all", (None, None, 0.2)), SlowAlias())
    assert result.status == "failed" and "date failed" in result.error and "timed out" in result.error


def test_a_budget_hit_mid_fan_out_cancels_the_rest_and_keeps_finished_spans() -> None:
    doc = parallel_graph()
    doc["nodes"].insert(1, {"id": "first", "type": "llm", "config": {"model": "fast", "prompt": "x"}})
    doc["edges"] = [{"from": "in", "to": "first"}, {"from": "first", "to": "p"}, {"from": "p", "to": "out"}]
    doc["budget"] = {"max_llm_calls": 3}  # the first call and two of the three branches
    result, _ = run(doc, ScriptedLLM(latency_s=0.05))
    assert result.status == "budget_exceeded" and "max_llm_calls=3" in result.error
    assert [s.node_id for s in spans(result, "llm") if s.status == "succeeded"] == ["first"]
    branches = spans(result, "branch")
    assert sorted(s.status for s in branches) == ["cancelled", "cancelled", "failed"]  # two in flight were stopped
    assert "max_llm_calls" in next(s.error for s in branches if s.status == "failed")


# --- vote -----------------------------------------------------------------------------------------

def vote_graph(samples: int = 5, **config: object) -> dict:
    vote = {"id": "v", "type": "vote", "config": {
        "samples": samples, "step": {"model": "fast", "prompt": "Safe? {{ input.text }}"}, **config}}
    return graph([INPUT, vote, out("{{ nodes.v.output }}")], [{"from": "in", "to": "v"}, {"from": "v", "to": "out"}])


def seeded(answers: dict[int, str]) -> ScriptedLLM:
    return ScriptedLLM(latency_s=0.1, answer=lambda r: answers[r.params["seed"]])


def test_vote_records_every_sample_the_winner_and_the_agreement() -> None:
    result, _ = run(vote_graph(), seeded({1: "safe", 2: "unsafe", 3: "safe", 4: "safe", 5: "unsafe"}))
    assert result.output["winner"] == "safe" and result.output["agreement"] == 0.6
    assert result.output["samples"] == ["safe", "unsafe", "safe", "safe", "unsafe"]
    samples = spans(result, "sample")
    assert len(samples) == 5 and overlapping(samples)
    assert result.totals["llm_calls"] == 5


def test_a_vote_of_five_counts_five_calls_against_the_budget() -> None:
    doc = vote_graph()
    doc["budget"] = {"max_llm_calls": 4}
    result, _ = run(doc, seeded(dict.fromkeys(range(1, 6), "x")))
    assert result.status == "budget_exceeded"


def test_unanimous_vote_without_agreement_is_undecided() -> None:
    result, _ = run(vote_graph(3, aggregate="unanimous"), seeded({1: "a", 2: "a", 3: "b"}))
    assert result.output["decided"] is False and result.output["winner"] is None


# --- orchestrator ---------------------------------------------------------------------------------

def orchestrator_graph(max_workers: int = 5) -> dict:
    config = {"max_workers": max_workers,
              "planner": {"model": "planner", "prompt": "Plan {{ input.text }}"},
              "worker": {"model": "worker", "prompt": "Do {{ task.title }}"},
              "synthesizer": {"model": "writer", "prompt": "{% for r in results %}{{ r.output }};{% endfor %}"}}
    return graph([INPUT, {"id": "o", "type": "orchestrator", "config": config}, out("{{ nodes.o.output }}")],
                 [{"from": "in", "to": "o"}, {"from": "o", "to": "out"}])


def planner_of(n: int) -> ScriptedLLM:
    def answer(request: LLMRequest) -> str:
        if request.alias == "planner":
            return json.dumps({"subtasks": [{"title": f"part {i}", "instructions": "go"} for i in range(n)]})
        if request.alias == "worker":
            return request.messages[-1]["content"].upper()
        return request.messages[-1]["content"]
    return ScriptedLLM(latency_s=0.05, answer=answer)


def test_orchestrator_logs_the_plan_apart_from_parallel_workers_then_synthesizes() -> None:
    result, _ = run(orchestrator_graph(), planner_of(3))
    assert result.output["answer"] == "DO PART 0;DO PART 1;DO PART 2;"
    plan = spans(result, "plan")
    workers = spans(result, "worker")
    assert len(plan) == 1 and plan[0].output["subtasks"][0]["title"] == "part 0"
    assert len(workers) == 3 and overlapping(workers)
    assert plan[0].span_id not in {w.parent_id for w in workers}  # the plan is its own span, not the workers' parent
    assert len(spans(result, "synthesize")) == 1


def test_a_planner_asking_for_30_subtasks_runs_only_max_workers() -> None:
    model = planner_of(30)
    result, _ = run(orchestrator_graph(max_workers=4), model)
    assert len(spans(result, "worker")) == 4
    assert sum(1 for r in model.calls if r.alias == "worker") == 4
    attributes = node_span(result, "o").attributes
    assert attributes["patchbay.orchestrator.planned"] == 30 and attributes["patchbay.orchestrator.dropped"] == 26
    assert len(result.output["dropped"]) == 26


def test_max_workers_above_the_hard_limit_is_refused() -> None:
    problems = validate_graph(orchestrator_graph(max_workers=40))
    assert [p.path for p in problems] == ["nodes[1].config.max_workers"]


# --- evaluator-optimizer --------------------------------------------------------------------------

def eo_graph(max_iterations: int = 3) -> dict:
    config = {"max_iterations": max_iterations,
              "generator": {"model": "writer", "prompt": "Write. {{ feedback }}"},
              "evaluator": {"model": "judge", "prompt": "Judge: {{ draft }}"}}
    return graph([INPUT, {"id": "eo", "type": "evaluator_optimizer", "config": config}, out("{{ nodes.eo.output }}")],
                 [{"from": "in", "to": "eo"}, {"from": "eo", "to": "out"}])


def judge_passing_at(round_no: int) -> ScriptedLLM:
    counter = {"drafts": 0}

    def answer(request: LLMRequest) -> str:
        if request.alias == "writer":
            counter["drafts"] += 1
            return f"draft {counter['drafts']}"
        ok = f"draft {round_no}" in request.messages[-1]["content"]
        return json.dumps({"pass": ok, "feedback": "fine" if ok else "add detail"})
    return ScriptedLLM(answer=answer)


def test_feedback_goes_back_to_the_generator_until_the_draft_passes() -> None:
    model = judge_passing_at(2)
    result, _ = run(eo_graph(), model)
    assert result.output == {"draft": "draft 2", "verdict": "passed", "iterations": 2, "feedback": "fine"}
    writer_prompts = [r.messages[-1]["content"] for r in model.calls if r.alias == "writer"]
    assert writer_prompts == ["Write. ", "Write. add detail"]
    assert [s.name for s in spans(result, "llm")] == ["draft", "evaluate", "draft", "evaluate"]
    assert node_span(result, "eo").attributes["patchbay.eo.iterations"] == 2


def test_an_evaluator_that_never_passes_stops_at_the_cap() -> None:
    result, _ = run(eo_graph(3), judge_passing_at(99))
    assert result.output["verdict"] == "max_iterations" and result.output["iterations"] == 3
    assert len(spans(result, "iteration")) == 3
    assert node_span(result, "eo").attributes["patchbay.eo.critiques"] == ["add detail"] * 3


# --- subgraph and composition ---------------------------------------------------------------------

CHILD = graph([INPUT, {"id": "shout", "type": "llm", "config": {"model": "fast", "prompt": "{{ input.text }}"}},
               out("{{ nodes.shout.output }}!")],
              [{"from": "in", "to": "shout"}, {"from": "shout", "to": "out"}], name="child")


def test_a_subgraph_runs_as_one_node_with_its_spans_nested() -> None:
    doc = graph([INPUT, {"id": "sub", "type": "subgraph", "config": {"subgraph": {"graph": "child@2"},
                                                                       "input": {"text": "{{ input.text }}"}}},
                 out("{{ nodes.sub.output }}")], [{"from": "in", "to": "sub"}, {"from": "sub", "to": "out"}])
    result, events = run(doc, ScriptedLLM(answer=lambda r: r.messages[-1]["content"].upper()),
                         subgraphs={"child@2": CHILD})
    assert result.output == "HI!"
    sub = node_span(result, "sub")
    inner = [s for s in spans(result, "node") if s.parent_id == sub.span_id]
    assert {s.node_id for s in inner} == {"sub/in", "sub/shout", "sub/out"}
    llm = spans(result, "llm")[0]
    assert llm.parent_id == next(s.span_id for s in inner if s.node_id == "sub/shout")
    assert sub.input_tokens == 10  # the child's tokens roll up into the subgraph node
    assert any(e["type"] == "node.completed" and e["node_id"] == "sub/shout" for e in events)


def test_a_pattern_can_stand_where_a_model_call_stands() -> None:
    """An evaluator-optimizer whose writer is a whole graph."""
    doc = eo_graph(2)
    doc["nodes"][1]["config"]["generator"] = {"subgraph": {"spec": CHILD}, "input": {"text": "draft"}}
    result, _ = run(doc, ScriptedLLM(answer=lambda r: json.dumps({"pass": True, "feedback": "ok"})
                                     if r.alias == "judge" else "d"))
    assert result.output["draft"] == "d!" and result.output["verdict"] == "passed"


def test_a_subgraph_budget_share_and_the_run_budget_both_hold() -> None:
    doc = graph([INPUT, {"id": "sub", "type": "subgraph", "config": {"subgraph": {"spec": CHILD},
                                                                       "budget": {"max_llm_calls": 1}}},
                 {"id": "sub2", "type": "subgraph", "config": {"subgraph": {"spec": {**CHILD, "name": "c2"}}}},
                 out(1)], [{"from": "in", "to": "sub"}, {"from": "sub", "to": "sub2"}, {"from": "sub2", "to": "out"}],
                budget={"max_llm_calls": 1})
    result, _ = run(doc, ScriptedLLM())
    assert result.status == "budget_exceeded" and len(spans(result, "llm")) == 1


def test_a_subgraph_that_calls_itself_is_refused_with_the_node_path() -> None:
    me = graph([INPUT, {"id": "again", "type": "subgraph", "config": {"subgraph": {"graph": "loop@1"}}}, out(1)],
               [{"from": "in", "to": "again"}, {"from": "again", "to": "out"}], name="loop")
    problems = validate_graph(me, ValidationContext(subgraphs={}))
    assert [p.path for p in problems] == ["nodes[1].config.subgraph.graph"]
    assert "cannot call itself" in problems[0].message


def test_indirect_recursion_is_refused_too() -> None:
    b = graph([INPUT, {"id": "call_a", "type": "subgraph", "config": {"subgraph": {"graph": "a@1"}}}, out(1)],
              [{"from": "in", "to": "call_a"}, {"from": "call_a", "to": "out"}], name="b")
    a = graph([INPUT, {"id": "call_b", "type": "subgraph", "config": {"subgraph": {"graph": "b@4"}}}, out(1)],
              [{"from": "in", "to": "call_b"}, {"from": "call_b", "to": "out"}], name="a")
    problems = validate_graph(a, ValidationContext(subgraphs={"b@4": b}))
    assert problems[0].path == "nodes[1].config.subgraph.graph" and "b@4 → a@1" in problems[0].message


def test_an_inline_subgraph_is_validated_in_place() -> None:
    broken = {**CHILD, "nodes": [*CHILD["nodes"][:1], {"id": "shout", "type": "llm", "config": {"model": "fast"}},
                                 *CHILD["nodes"][2:]]}
    doc = graph([INPUT, {"id": "sub", "type": "subgraph", "config": {"subgraph": {"spec": broken}}}, out(1)],
                [{"from": "in", "to": "sub"}, {"from": "sub", "to": "out"}])
    paths = [p.path for p in validate_graph(doc)]
    assert "nodes[1].config.subgraph.spec.nodes[1].config.prompt" in paths
