"""Each scorer on crafted cases (pure: no database), and scorer validation with paths."""
from __future__ import annotations

import asyncio
import json
from typing import Any

from backend.engine.ports import LLMError, LLMRequest, LLMResult
from backend.evals.scorers import Case, Scorer, judge, parse_scorers, score


def one(raw: dict[str, Any]) -> Scorer:
    scorers, problems = parse_scorers([raw])
    assert not problems, problems
    return scorers[0]


def test_exact_contains_regex() -> None:
    case = Case(output={"answer": "Refund issued", "amount": 42}, expected="Refund issued")
    assert score(one({"type": "exact", "field": "answer"}), case).passed
    assert not score(one({"type": "exact"}), case).passed
    assert score(one({"type": "contains", "text": "issued", "field": "answer"}), case).passed
    assert score(one({"type": "regex", "pattern": "^Refund", "field": "answer"}), case).passed
    assert not score(one({"type": "regex", "pattern": "^refund", "field": "answer"}), case).passed
    assert score(one({"type": "regex", "pattern": "^refund", "field": "answer", "ignore_case": True}), case).passed
    assert not score(one({"type": "exact"}), Case(output="x")).passed  # no expected value


def test_json_schema_and_numeric() -> None:
    schema = {"type": "object", "properties": {"amount": {"type": "number"}}, "required": ["amount"]}
    assert score(one({"type": "json_schema", "schema": schema}), Case(output={"amount": 3})).passed
    bad = score(one({"type": "json_schema", "schema": schema}), Case(output={"amount": "3"}))
    assert not bad.passed and "amount" in bad.comment
    remote = {"$ref": "https://example.invalid/schema.json"}
    assert not score(one({"type": "json_schema", "schema": remote}), Case(output=1)).passed  # never fetched
    num = one({"type": "numeric", "field": "amount", "tolerance": 0.5})
    assert score(num, Case(output={"amount": 42.4}, expected={"amount": 42})).passed
    assert not score(num, Case(output={"amount": 43}, expected={"amount": 42})).passed
    assert not score(num, Case(output={"amount": "n/a"}, expected={"amount": 42})).passed


def test_route_cost_latency() -> None:
    case = Case(output="x", labels={"route": "billing"}, routes={"classify": "billing"}, cost_usd=0.002,
                latency_ms=120)
    assert score(one({"type": "route"}), case).passed
    assert score(one({"type": "route", "node": "classify"}), case).passed
    assert not score(one({"type": "route"}), Case(output="x", labels={"route": "tech"}, routes={"c": "billing"})).passed
    assert score(one({"type": "cost", "max_usd": 0.002}), case).passed
    assert not score(one({"type": "cost", "max_usd": 0.001}), case).passed
    assert score(one({"type": "latency", "max_ms": 120}), case).passed
    assert not score(one({"type": "latency", "max_ms": 100}), case).passed


def test_a_failed_run_fails_output_scorers() -> None:
    assert not score(one({"type": "contains", "text": ""}), Case(output=None, failed="boom")).passed


def test_bad_scorers_name_their_fields() -> None:
    _, problems = parse_scorers([{"type": "regex", "pattern": "(a)\\1"}, {"type": "nope"}, {"type": "judge"},
                                 {"type": "cost"}, {"type": "json_schema", "schema": {"type": 3}}])
    paths = [p["path"] for p in problems]
    assert paths == ["scorers[0].pattern", "scorers[1].type", "scorers[2].rubric", "scorers[3].max_usd",
                     "scorers[4].schema"]
    assert parse_scorers([])[1][0]["path"] == "scorers"
    assert parse_scorers([{"type": "exact"}, {"type": "exact"}])[1][0]["path"] == "scorers[1].name"


class ScriptedJudge:
    def __init__(self, text: str = "", error: bool = False):
        self.text, self.error, self.requests = text, error, []

    async def complete(self, request: LLMRequest, on_delta: Any = None) -> LLMResult:
        self.requests.append(request)
        if self.error:
            raise LLMError("model_disabled: switched off", kind="model_disabled")
        return LLMResult(self.text, "m", 10, 5, 0.0007)


def test_the_judge_asks_for_a_structured_score_and_counts_its_cost() -> None:
    scorer = one({"type": "judge", "rubric": "Is it polite?", "alias": "grader", "pass_at": 0.7})
    llm = ScriptedJudge(json.dumps({"score": 0.8, "reason": "polite"}))
    outcome = asyncio.run(judge(scorer, Case(output="Thank you!", input={"q": "hi"}), llm))
    assert outcome.value == 0.8 and outcome.passed and outcome.comment == "polite" and outcome.cost_usd == 0.0007
    request = llm.requests[0]
    assert request.alias == "grader" and request.response_schema["required"] == ["score", "reason"]
    assert "Is it polite?" in request.messages[1]["content"] and "Thank you!" in request.messages[1]["content"]
    low = asyncio.run(judge(scorer, Case(output="x"), ScriptedJudge(json.dumps({"score": 0.6, "reason": "meh"}))))
    assert not low.passed
    down = asyncio.run(judge(scorer, Case(output="x"), ScriptedJudge(error=True)))
    assert down.value == 0 and not down.passed and "switched off" in down.comment
