"""vote: ask the same thing N times at once and keep the answer most samples agree on."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..aggregate import aggregate_votes
from ..fanout import run_branches
from ..problems import Problem
from ..steps import STEP_SCHEMA, check_step, is_subgraph, run_step, step_templates
from .base import NodeFailed, NodeOutcome, NodeType, parse_config

if TYPE_CHECKING:
    from ..runtime import NodeContext
    from ..spec import GraphSpec, Node
    from ..types import ValidationContext

MAX_SAMPLES = 9


@dataclass(frozen=True)
class VoteConfig:
    step: Mapping[str, Any]
    samples: int
    aggregate: str
    k: int | None
    tie: str
    timeout_s: float


class VoteNode(NodeType):
    type_name = "vote"
    title = "Vote"
    pattern = "parallelization"
    description = ("Ask the same question several times and keep the answer most of them agree on. Worth it when "
                   "a wrong answer is costly, e.g. deciding whether content is safe.")
    config_schema = {
        "type": "object",
        "properties": {
            "step": STEP_SCHEMA,
            "samples": {"type": "integer", "minimum": 1, "maximum": MAX_SAMPLES, "default": 5,
                        "title": "Number of votes"},
            "aggregate": {"enum": ["majority", "unanimous", "threshold"], "default": "majority",
                          "title": "How to decide"},
            "k": {"type": "integer", "minimum": 1, "maximum": MAX_SAMPLES, "title": "Votes needed (threshold)"},
            "tie": {"enum": ["first", "none"], "default": "first", "title": "On a tie",
                    "description": "first: the answer seen first wins; none: no winner."},
            "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600, "default": 60,
                          "title": "Timeout per vote (s)"},
        },
        "required": ["step"],
        "additionalProperties": False,
    }

    def parse(self, config: Mapping[str, Any]) -> VoteConfig:
        return parse_config(VoteConfig, self.config_schema, config)

    def templates(self, config: Mapping[str, Any], ctx: ValidationContext) -> Iterable[tuple]:
        return step_templates(config.get("step") or {}, ("step",), ctx.prompts)

    def check(self, node: Node, spec: GraphSpec, ctx: ValidationContext) -> Iterable[Problem]:
        base = f"nodes[{node.index}].config"
        config = self.parse(node.config)
        yield from check_step(config.step, f"{base}.step", node.id, ctx)
        if config.aggregate == "threshold":
            k = config.k
            if k is None:
                yield Problem(f"{base}.k", "say how many votes are needed", node.id)
            elif k > config.samples:
                yield Problem(f"{base}.k", f"needs {k} votes but only {config.samples} are cast", node.id)

    async def run(self, node: Node, ctx: NodeContext) -> NodeOutcome:
        config = self.parse(node.config)
        n = config.samples
        step = config.step

        def start(i: int) -> Any:
            async def go() -> Any:
                async with ctx.child(f"vote {i + 1}", "sample") as child:
                    # A distinct seed per sample: identical requests would be one cached answer.
                    params = None if is_subgraph(step) else {"seed": i + 1}
                    child.span.output = await run_step(child, step, name=f"vote {i + 1}", params=params)
                    return child.span.output
            return go

        outcomes = await run_branches([(f"vote {i + 1}", start(i)) for i in range(n)], config.timeout_s)
        samples = [o.value for o in outcomes if o.ok]
        if not samples:
            raise NodeFailed("every vote failed: " + "; ".join(o.error or "" for o in outcomes))
        result = aggregate_votes(samples, config.aggregate, config.k, config.tie)
        attributes = {
            "patchbay.vote.samples": samples,
            "patchbay.vote.failed": sum(1 for o in outcomes if not o.ok),
            "patchbay.vote.winner": result.winner,
            "patchbay.vote.agreement": round(result.agreement, 4),
            "patchbay.vote.decided": result.decided,
            "patchbay.vote.rule": config.aggregate,
        }
        output = {"winner": result.winner, "decided": result.decided, "agreement": round(result.agreement, 4),
                  "samples": samples, "counts": result.counts}
        if result.reason:
            output["reason"] = result.reason
        return NodeOutcome(output=output, attributes=attributes)
