"""The pattern advisor: plain-language findings where the recorded runs force a change.

Each rule reads the metrics of one graph over a period (metrics.py) and the graph's spec, and says nothing
unless the data is thick enough (``MIN_RUNS``) and clear. Each finding carries its evidence and what is at
stake: money over the period (``usd``) and per 1,000 runs, or time per run (``ms``).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from backend.evals.verdict import drop_allowed

from . import metrics
from .graph_shape import longest_model_chain, setting
from .records import RunRecord
from .stats import mean

MIN_RUNS = 30  # below this a rate says little; the advisor stays quiet
VOTE_AGREES = 0.99
LOOP_FIRST_PASS = 0.90
LOOP_CAPPED = 0.90
LONG_CHAIN = 4
CHEAPER_ALIAS_TOLERANCE = 0.01  # without an eval policy: a cheaper alias within a point "answers as well"
MIN_EVAL_ITEMS = 20


@dataclass(frozen=True)
class Finding:
    rule: str
    node_id: str
    title: str
    advice: str
    evidence: list[str]
    usd_at_stake: float | None = None  # over the period
    usd_per_1000_runs: float | None = None
    ms_at_stake: float | None = None  # per run

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RouteEvalEvidence:
    """A held-out eval's verdict on one router route: the model of a step on it against a cheaper one.

    The evals app fills it (evals/route_evidence.py) from an eval that swapped the step's model and the baseline
    eval of the same dataset and version, both counted on the held-out items that took the route."""

    node_id: str  # the router
    route: str
    alias: str  # the step's model in the graph
    cheaper_alias: str  # the model the eval tried instead
    pass_rate: float  # 0-1, with ``alias`` (the baseline eval)
    cheaper_pass_rate: float  # 0-1, with ``cheaper_alias``
    items: int
    cost_per_item_usd: float  # what the step's calls cost per item, as measured in each eval
    cheaper_cost_per_item_usd: float
    dataset: str = ""
    step_id: str = ""  # the model step on the route whose model was swapped
    tolerance: float = CHEAPER_ALIAS_TOLERANCE  # the largest pass-rate drop that still "answers as well"


@dataclass
class AdvisorInput:
    spec: Mapping[str, Any]
    runs: Sequence[RunRecord]
    route_evals: Sequence[RouteEvalEvidence] = field(default_factory=list)


def _pct(value: float) -> str:
    return f"{value * 100:.0f} %"


def _points(rate: float) -> str:
    points = round(rate * 100, 2)
    return f"{points:g} point{'' if points == 1 else 's'}"


def _money(value: float) -> str:
    return f"${value:,.4f}" if value < 1 else f"${value:,.2f}"


def _call_cost(runs: Sequence[RunRecord], node_id: str, keep: Any) -> float:
    """What the step's model calls whose name passes ``keep`` cost over the period."""
    total = 0.0
    for run in runs:
        step = run.step(node_id)
        if step is not None:
            total += sum(cost for name, cost in step.call_costs.items() if keep(name))
    return total


def _per_1000(usd: float, runs: int) -> float | None:
    return usd / runs * 1000 if runs else None


def _clear_share(found: Mapping[str, Any], key: str, at_least: float) -> float | None:
    """The metric's share when enough runs measured it and it reaches ``at_least``; None: stay quiet."""
    value = found[key]
    return value if found["runs"] >= MIN_RUNS and value is not None and value >= at_least else None


def _spend_finding(data: AdvisorInput, node: Mapping[str, Any], *, rule: str, runs: int, title: str, advice: str,
                   seen: str, spent_on: str, calls: Any) -> Finding:
    """A step that does work the runs show is not needed: the money its ``calls`` (by name) cost is at stake."""
    usd = _call_cost(data.runs, node["id"], calls)
    return Finding(rule=rule, node_id=node["id"], title=title, advice=advice,
                   evidence=[f"{runs} runs; {seen}", f"{spent_on} cost {_money(usd)} over the period"],
                   usd_at_stake=usd, usd_per_1000_runs=_per_1000(usd, runs))


def vote_always_agrees(data: AdvisorInput, node: Mapping[str, Any]) -> Finding | None:
    found = metrics.vote_agreement(data.runs, node["id"])
    unanimous = _clear_share(found, "unanimous_share", VOTE_AGREES)
    if unanimous is None:
        return None
    return _spend_finding(
        data, node, rule="vote_always_agrees", runs=found["runs"],
        title=f"Vote '{node['id']}' almost always agrees with itself",
        advice=f"Its {int(setting(node, 'samples'))} samples gave the same answer on {_pct(unanimous)} of runs. Drop "
               "the vote for a single step, or lower the number of samples.",
        seen=f"unanimous on {_pct(unanimous)}", spent_on="the samples after the first",
        calls=lambda name: name != "vote 1")


def loop_passes_at_once(data: AdvisorInput, node: Mapping[str, Any]) -> Finding | None:
    found = metrics.loop_iterations(data.runs, node["id"], int(setting(node, "max_iterations")))
    first = _clear_share(found, "first_pass_share", LOOP_FIRST_PASS)
    if first is None:
        return None
    return _spend_finding(
        data, node, rule="loop_passes_at_once", runs=found["runs"],
        title=f"Loop '{node['id']}' passes on the first try",
        advice=f"The evaluator accepted the first draft on {_pct(first)} of runs: the loop rarely improves "
               "anything. Replace it with a single model step.",
        seen=f"passed at once on {_pct(first)}", spent_on="the evaluator's calls",
        calls=lambda name: name == "evaluate")


def loop_hits_cap(data: AdvisorInput, node: Mapping[str, Any]) -> Finding | None:
    cap = int(setting(node, "max_iterations"))
    found = metrics.loop_iterations(data.runs, node["id"], cap)
    capped = _clear_share(found, "cap_share", LOOP_CAPPED)
    if capped is None:
        return None
    steps = [s for run in data.runs if (s := run.step(node["id"])) is not None]
    spent = sum(s.cost_usd for s in steps)
    return Finding(
        rule="loop_hits_cap", node_id=node["id"],
        title=f"Loop '{node['id']}' runs out of rounds",
        advice=f"{_pct(capped)} of runs used all {cap} rounds without the evaluator passing the draft: the "
               "evaluator is too strict (or the generator cannot meet it). Loosen the evaluator's rubric.",
        evidence=[f"{found['runs']} runs; ran out of rounds on {_pct(capped)}",
                  f"the loop cost {_money(spent)} over the period"],
        usd_at_stake=spent, usd_per_1000_runs=_per_1000(spent, found["runs"]),
        ms_at_stake=mean([s.duration_ms for s in steps if s.duration_ms is not None]))


def gate_never_fires(data: AdvisorInput, node: Mapping[str, Any]) -> Finding | None:
    found = metrics.gate_exits(data.runs, node["id"], [])
    if found["runs"] < MIN_RUNS or found["exits"]:
        return None
    steps = [s for run in data.runs if (s := run.step(node["id"])) is not None]
    return Finding(
        rule="gate_never_fires", node_id=node["id"],
        title=f"Gate '{node['id']}' never stopped a run",
        advice="Its check passed every run in the period. Check that its rule tests what you mean, or remove it.",
        evidence=[f"{found['runs']} runs; 0 stopped"],
        ms_at_stake=mean([s.duration_ms for s in steps if s.duration_ms is not None]))


def long_model_chain(data: AdvisorInput) -> Finding | None:
    chain = longest_model_chain(data.spec)
    if len(chain) <= LONG_CHAIN:
        return None
    waits = [s.duration_ms for run in data.runs for s in run.steps if s.node_id in chain and s.duration_ms]
    per_run = sum(waits) / len(data.runs) if data.runs else None
    return Finding(
        rule="long_model_chain", node_id=chain[0],
        title=f"{len(chain)} model steps in a row",
        advice="Every step on this path waits for the one before it. Merge steps, or run independent ones in "
               "parallel, to cut the wait.",
        evidence=[" → ".join(chain)] + ([f"these steps take {per_run:,.0f} ms per run on average"]
                                        if per_run is not None else []),
        ms_at_stake=per_run)


def cheaper_route_alias(data: AdvisorInput, evidence: RouteEvalEvidence) -> Finding | None:
    # "As well" is the eval gate's rule (evals/verdict.py), so following the advice passes the gate.
    if evidence.items < MIN_EVAL_ITEMS or not drop_allowed(evidence.pass_rate, evidence.cheaper_pass_rate,
                                                           evidence.tolerance):
        return None
    if evidence.cheaper_cost_per_item_usd >= evidence.cost_per_item_usd:
        return None
    routed = metrics.router_confusion(data.runs, evidence.node_id, [evidence.route], {})
    chosen = next((r["chosen"] for r in routed["per_route"] if r["route"] == evidence.route), 0)
    if not chosen:
        return None  # no traffic takes the route in the period: nothing is at stake
    saving = evidence.cost_per_item_usd - evidence.cheaper_cost_per_item_usd
    traffic = chosen / routed["runs"]
    step = evidence.step_id or "its model step"
    held_out = f"the held-out set '{evidence.dataset}'" if evidence.dataset else "a held-out set"
    return Finding(
        rule="cheaper_route_alias", node_id=evidence.step_id or evidence.node_id,
        title=f"Route '{evidence.route}' could use '{evidence.cheaper_alias}'",
        advice=f"On {held_out}, '{evidence.cheaper_alias}' answered this route's questions as well as "
               f"'{evidence.alias}', for less. Switch step '{step}' to '{evidence.cheaper_alias}'.",
        evidence=[f"pass rate {_pct(evidence.cheaper_pass_rate)} with {evidence.cheaper_alias} against "
                  f"{_pct(evidence.pass_rate)} with {evidence.alias}, on the {evidence.items} held-out items that "
                  f"took route '{evidence.route}' (up to {_points(evidence.tolerance)} lower still counts as well)",
                  f"step '{step}' costs {_money(evidence.cheaper_cost_per_item_usd * 1000)} per 1,000 runs with "
                  f"{evidence.cheaper_alias}, {_money(evidence.cost_per_item_usd * 1000)} with {evidence.alias}",
                  f"{chosen} of {routed['runs']} runs took this route in the period"],
        usd_at_stake=saving * chosen, usd_per_1000_runs=saving * traffic * 1000)


NODE_RULES = {"vote": (vote_always_agrees,), "evaluator_optimizer": (loop_passes_at_once, loop_hits_cap),
              "gate": (gate_never_fires,)}


def advise(data: AdvisorInput) -> list[Finding]:
    """Every finding the data supports, most money at stake first."""
    findings: list[Finding] = []
    for node in data.spec.get("nodes", []):
        for rule in NODE_RULES.get(node.get("type", ""), ()):
            found = rule(data, node)
            if found is not None:
                findings.append(found)
    chain = long_model_chain(data)
    if chain is not None:
        findings.append(chain)
    for evidence in data.route_evals:
        found = cheaper_route_alias(data, evidence)
        if found is not None:
            findings.append(found)
    return sorted(findings, key=lambda f: -(f.usd_at_stake or 0))
