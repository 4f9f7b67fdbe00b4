"""evaluator_optimizer: draft, judge, revise with the judge's feedback — a bounded loop."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..problems import Problem
from ..steps import STEP_SCHEMA, check_step, run_step, step_templates
from .base import NodeOutcome, NodeType, parse_config

if TYPE_CHECKING:
    from ..runtime import NodeContext
    from ..spec import GraphSpec, Node
    from ..types import ValidationContext

HARD_MAX_ITERATIONS = 10

VERDICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"pass": {"type": "boolean"}, "feedback": {"type": "string"}},
    "required": ["pass", "feedback"],
}


@dataclass(frozen=True)
class EvaluatorOptimizerConfig:
    generator: Mapping[str, Any]
    evaluator: Mapping[str, Any]
    max_iterations: int


class EvaluatorOptimizerNode(NodeType):
    type_name = "evaluator_optimizer"
    title = "Evaluator and optimizer"
    pattern = "evaluator-optimizer"
    description = ("One model drafts, another checks the draft against clear criteria and says what to fix; the "
                   "draft is revised until it passes or the round limit is hit. Use when feedback measurably helps.")
    config_schema = {
        "type": "object",
        "properties": {
            "generator": {**STEP_SCHEMA, "title": "Writer",
                          "description": "Drafts; sees {{ draft }} and {{ feedback }} from the last round."},
            "evaluator": {**STEP_SCHEMA, "title": "Judge",
                          "description": "Sees {{ draft }}; answers pass (true/false) and feedback."},
            "max_iterations": {"type": "integer", "minimum": 1, "maximum": HARD_MAX_ITERATIONS, "default": 3,
                               "title": "Most rounds"},
        },
        "required": ["generator", "evaluator"],
        "additionalProperties": False,
    }

    def parse(self, config: Mapping[str, Any]) -> EvaluatorOptimizerConfig:
        return parse_config(EvaluatorOptimizerConfig, self.config_schema, config)

    def templates(self, config: Mapping[str, Any], ctx: ValidationContext) -> Iterable[tuple]:
        for role in ("generator", "evaluator"):
            for path, source in step_templates(config.get(role) or {}, (role,), ctx.prompts):
                yield path, source, frozenset({"draft", "feedback", "iteration"})

    def check(self, node: Node, spec: GraphSpec, ctx: ValidationContext) -> Iterable[Problem]:
        for role in ("generator", "evaluator"):
            yield from check_step(node.config[role], f"nodes[{node.index}].config.{role}", node.id, ctx)

    async def run(self, node: Node, ctx: NodeContext) -> NodeOutcome:
        config = self.parse(node.config)
        limit = min(config.max_iterations, HARD_MAX_ITERATIONS)
        draft: Any = None
        feedback = ""
        critiques: list[str] = []
        passed = False
        iteration = 0
        for iteration in range(1, limit + 1):
            async with ctx.child(f"iteration {iteration}", "iteration") as round_ctx:
                draft = await run_step(round_ctx.with_vars(draft=draft, feedback=feedback, iteration=iteration),
                                       config.generator, name="draft")
                verdict = await run_step(round_ctx.with_vars(draft=draft, feedback=feedback, iteration=iteration),
                                         config.evaluator, name="evaluate", response_schema=VERDICT_SCHEMA)
                passed, feedback = bool(verdict["pass"]), verdict["feedback"]
                critiques.append(feedback)
                round_ctx.span.output = {"draft": draft, "pass": passed, "feedback": feedback}
            if passed:
                break
        verdict_name = "passed" if passed else "max_iterations"
        attributes = {"patchbay.eo.iterations": iteration, "patchbay.eo.verdict": verdict_name,
                      "patchbay.eo.critiques": critiques}
        output = {"draft": draft, "verdict": verdict_name, "iterations": iteration, "feedback": feedback}
        return NodeOutcome(output=output, attributes=attributes)
