"""Scorers: pure functions from one eval item's facts to a score (no Django, no I/O but the judge's model call).

A scorer is a small JSON object, ``{"type": "regex", "pattern": "^ok", "name": "starts ok"}``, checked once by
``parse_scorers`` (every problem with its path, like graph validation), then applied to each item's
``Case``. Every scorer yields a value in 0..1; pass/fail scorers are BOOLEAN (1 or 0), the judge is NUMERIC and
passes at ``pass_at``. The judge goes through the engine's ``llm`` port (the gateway): its alias has a kill
switch, a breaker and a price, and its cost is part of the outcome.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from backend.engine.canonical import canonical_json
from backend.engine.ports import LLM, LLMError, LLMRequest
from backend.engine.regex import pattern_problem, search

from .schemas import schema_problem, validation_errors

SCORER_TYPES: dict[str, str] = {
    "exact": "the output (or one field of it) equals the expected value",
    "contains": "the output's text contains a given text (or the expected value)",
    "regex": "the output's text matches a pattern (linear time)",
    "json_schema": "the output is valid against a JSON schema",
    "numeric": "a number in the output is within a tolerance of the expected number",
    "route": "the router chose the route the item is labelled with",
    "judge": "a model grades the output against a rubric (0 to 1, with a reason)",
    "cost": "the run cost at most max_usd",
    "latency": "the run took at most max_ms",
}
JUDGE_SCHEMA = {"type": "object", "properties": {"score": {"type": "number", "minimum": 0, "maximum": 1},
                                                 "reason": {"type": "string"}},
                "required": ["score", "reason"], "additionalProperties": False}
DEFAULT_JUDGE_ALIAS = "judge"
MAX_SCORERS = 20


@dataclass(frozen=True)
class Scorer:
    type: str
    name: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class Case:
    """What one item produced, as the scorers see it."""

    output: Any
    expected: Any = None
    labels: Mapping[str, Any] = field(default_factory=dict)
    routes: Mapping[str, str] = field(default_factory=dict)  # router node id -> the route it chose
    cost_usd: float = 0.0
    latency_ms: float | None = None
    input: Any = None
    failed: str = ""  # the run's error, if it did not succeed


@dataclass(frozen=True)
class Outcome:
    value: float
    data_type: str  # BOOLEAN | NUMERIC
    passed: bool
    comment: str = ""
    cost_usd: float = 0.0


def _pass(ok: bool, comment: str = "") -> Outcome:
    return Outcome(1.0 if ok else 0.0, "BOOLEAN", ok, comment)


def pick(value: Any, path: str) -> Any:
    """``a.b.0.c`` inside ``value``; a missing step gives None."""
    for step in [s for s in path.split(".") if s] if path else []:
        if isinstance(value, Mapping):
            value = value.get(step)
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return None
    return value


def as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return canonical_json(value)  # one spelling of a JSON value, whatever its key order


def _expected(case: Case, scorer: Scorer) -> Any:
    field_path = str(scorer.params.get("field") or "")
    if field_path and isinstance(case.expected, Mapping | list):
        return pick(case.expected, field_path)
    return case.expected


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def score(scorer: Scorer, case: Case) -> Outcome:
    """Every scorer but the judge (see ``judge``)."""
    kind, params = scorer.type, scorer.params
    if kind == "cost":
        return _pass(case.cost_usd <= float(params["max_usd"]), f"cost ${case.cost_usd:.6f}")
    if kind == "latency":
        if case.latency_ms is None:
            return _pass(False, "no latency recorded")
        return _pass(case.latency_ms <= float(params["max_ms"]), f"{case.latency_ms:.0f} ms")
    if kind == "route":
        wanted = case.labels.get("route")
        if wanted is None:
            return _pass(False, "the item has no route label")
        node = str(params.get("node") or "")
        chosen = case.routes.get(node) if node else next(iter(case.routes.values()), None)
        if chosen is None:
            return _pass(False, "no router chose a route in this run")
        return _pass(chosen == wanted, f"chose {chosen}, labelled {wanted}")
    if case.failed:
        return _pass(False, f"the run failed: {case.failed}")
    output = pick(case.output, str(params.get("field") or ""))
    if kind == "exact":
        if case.expected is None:
            return _pass(False, "the item has no expected value")
        return _pass(output == _expected(case, scorer) or as_text(output) == as_text(_expected(case, scorer)))
    if kind == "contains":
        needle = params.get("text")
        needle = as_text(case.expected) if needle is None and case.expected is not None else needle
        if needle is None:
            return _pass(False, "nothing to look for: no text and no expected value")
        return _pass(str(needle) in as_text(output))
    if kind == "regex":
        return _pass(search(str(params["pattern"]), as_text(output), ignore_case=bool(params.get("ignore_case"))))
    if kind == "json_schema":
        errors = validation_errors(params["schema"], output)
        return _pass(not errors, "; ".join(errors[:3]))
    if kind == "numeric":
        got, want = _number(output), _number(_expected(case, scorer))
        if got is None or want is None:
            return _pass(False, "not a number" if got is None else "the item has no expected number")
        return _pass(abs(got - want) <= float(params.get("tolerance", 0)), f"{got:g} vs {want:g}")
    raise ValueError(f"unknown scorer type {kind!r}")


def judge_messages(scorer: Scorer, case: Case) -> list[dict[str, str]]:
    rubric = str(scorer.params["rubric"])
    expected = "" if case.expected is None else f"\n\nA good answer looks like:\n{as_text(case.expected)}"
    return [{"role": "system", "content": "You grade an answer against a rubric. Reply with a score from 0 (fails "
             "the rubric) to 1 (meets it fully) and a one-sentence reason."},
            {"role": "user", "content": f"Rubric:\n{rubric}\n\nInput:\n{as_text(case.input)}\n\nAnswer:\n"
             f"{as_text(case.output)}{expected}"}]


async def judge(scorer: Scorer, case: Case, llm: LLM) -> Outcome:
    """LLM-as-judge through the gateway: a structured {score, reason}; a model that fails scores 0, says why."""
    if case.failed:
        return Outcome(0.0, "NUMERIC", False, f"the run failed: {case.failed}")
    request = LLMRequest(str(scorer.params.get("alias") or DEFAULT_JUDGE_ALIAS), judge_messages(scorer, case),
                         params={"temperature": 0}, response_schema=JUDGE_SCHEMA, cache=False)
    try:
        result = await llm.complete(request)
    except LLMError as exc:
        return Outcome(0.0, "NUMERIC", False, f"the judge could not answer: {exc}")
    verdict = result.parsed if isinstance(result.parsed, Mapping) else _loads(result.text)
    value = _number(verdict.get("score")) if isinstance(verdict, Mapping) else None
    if value is None:
        return Outcome(0.0, "NUMERIC", False, "the judge's answer had no score", result.cost_usd)
    value = min(1.0, max(0.0, value))
    pass_at = float(scorer.params.get("pass_at", 0.5))
    return Outcome(value, "NUMERIC", value >= pass_at, str(verdict.get("reason") or ""), result.cost_usd)


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _need(raw: Mapping[str, Any], key: str, check: Any, message: str, path: str) -> list[dict[str, str]]:
    return [] if key in raw and check(raw[key]) else [{"path": f"{path}.{key}", "message": message}]


def _is_number(value: Any) -> bool:
    return _number(value) is not None and not isinstance(value, str) and float(value) >= 0


def _param_problems(kind: str, raw: Mapping[str, Any], path: str) -> list[dict[str, str]]:
    if kind == "cost":
        return _need(raw, "max_usd", _is_number, "a number of dollars, 0 or more", path)
    if kind == "latency":
        return _need(raw, "max_ms", _is_number, "a number of milliseconds, 0 or more", path)
    if kind == "regex":
        problems = _need(raw, "pattern", lambda v: isinstance(v, str) and v != "", "write a pattern", path)
        why = pattern_problem(raw["pattern"]) if not problems else None
        return problems + ([{"path": f"{path}.pattern", "message": why}] if why else [])
    if kind == "json_schema":
        problems = _need(raw, "schema", lambda v: isinstance(v, dict), "a JSON schema (an object)", path)
        why = schema_problem(raw["schema"]) if not problems else None
        return problems + ([{"path": f"{path}.schema", "message": why}] if why else [])
    if kind == "numeric" and "tolerance" in raw and not _is_number(raw["tolerance"]):
        return [{"path": f"{path}.tolerance", "message": "a number, 0 or more"}]
    if kind == "judge":
        problems = _need(raw, "rubric", lambda v: isinstance(v, str) and v.strip() != "", "write a rubric", path)
        if "pass_at" in raw and not (_is_number(raw["pass_at"]) and float(raw["pass_at"]) <= 1):
            problems.append({"path": f"{path}.pass_at", "message": "a number from 0 to 1"})
        return problems
    return []


def parse_scorers(raw: Any, path: str = "scorers") -> tuple[list[Scorer], list[dict[str, str]]]:
    """Scorers from their JSON, or every problem with its path. Names default to the type, made unique."""
    if not isinstance(raw, list) or not raw:
        return [], [{"path": path, "message": "pick at least one scorer"}]
    if len(raw) > MAX_SCORERS:
        return [], [{"path": path, "message": f"at most {MAX_SCORERS} scorers"}]
    scorers: list[Scorer] = []
    problems: list[dict[str, str]] = []
    names: set[str] = set()
    for i, entry in enumerate(raw):
        at = f"{path}[{i}]"
        if not isinstance(entry, Mapping) or entry.get("type") not in SCORER_TYPES:
            problems.append({"path": f"{at}.type", "message": "one of " + ", ".join(SCORER_TYPES)})
            continue
        kind = str(entry["type"])
        found = _param_problems(kind, entry, at)
        problems += found
        name = str(entry.get("name") or kind)[:100]
        if name in names:
            problems.append({"path": f"{at}.name", "message": f"two scorers are named '{name}'"})
        names.add(name)
        if not found:
            scorers.append(Scorer(kind, name, {k: v for k, v in entry.items() if k not in ("type", "name")}))
    return scorers, problems
