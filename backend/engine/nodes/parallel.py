"""parallel (sectioning): independent sub-tasks at once, then one joined object."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..aggregate import join_branches, join_failure
from ..fanout import run_branches
from ..problems import Problem
from ..steps import STEP_SCHEMA, check_step, run_step, step_templates
from .base import NodeFailed, NodeOutcome, NodeType, parse_config

if TYPE_CHECKING:
    from ..runtime import NodeContext
    from ..spec import GraphSpec, Node
    from ..types import ValidationContext

BRANCH_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,39}$"


@dataclass(frozen=True)
class ParallelConfig:
    branches: list[dict[str, Any]]
    join: str
    timeout_s: float  # for branches that set none of their own


class ParallelNode(NodeType):
    type_name = "parallel"
    title = "Parallel sections"
    pattern = "parallelization"
    description = ("Split a task into independent parts that run at the same time (e.g. read the name, amount and "
                   "date of an invoice at once), then join the answers. A slow part never holds up the others.")
    config_schema = {
        "type": "object",
        "properties": {
            "branches": {
                "type": "array", "title": "Branches", "minItems": 1, "maxItems": 16,
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "pattern": BRANCH_NAME, "title": "Name (key in the result)"},
                        "step": STEP_SCHEMA,
                        "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600,
                                      "title": "Timeout (s)"},
                    },
                    "required": ["name", "step"],
                    "additionalProperties": False,
                },
            },
            "join": {"enum": ["require_all", "best_effort"], "default": "require_all", "title": "Join",
                     "description": "require_all fails if a branch fails; best_effort keeps the rest."},
            "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600, "default": 60,
                          "title": "Default branch timeout (s)"},
        },
        "required": ["branches"],
        "additionalProperties": False,
    }

    def parse(self, config: Mapping[str, Any]) -> ParallelConfig:
        return parse_config(ParallelConfig, self.config_schema, config)

    def templates(self, config: Mapping[str, Any], ctx: ValidationContext) -> Iterable[tuple]:
        for i, branch in enumerate(config.get("branches") or []):
            yield from step_templates(branch.get("step") or {}, ("branches", i, "step"), ctx.prompts)

    def check(self, node: Node, spec: GraphSpec, ctx: ValidationContext) -> Iterable[Problem]:
        base = f"nodes[{node.index}].config.branches"
        seen: set[str] = set()
        for i, branch in enumerate(node.config["branches"]):
            if branch["name"] in seen:
                yield Problem(f"{base}[{i}].name", f"branch name '{branch['name']}' is used twice", node.id)
            seen.add(branch["name"])
            yield from check_step(branch["step"], f"{base}[{i}].step", node.id, ctx)

    async def run(self, node: Node, ctx: NodeContext) -> NodeOutcome:
        config = self.parse(node.config)

        def start(branch: Mapping[str, Any]) -> Any:
            async def go() -> Any:
                async with ctx.child(branch["name"], "branch") as child:
                    child.span.output = await run_step(child, branch["step"], name=branch["name"])
                    return child.span.output
            return go

        outcomes = await run_branches([(b["name"], start(b)) for b in config.branches],
                                      [b.get("timeout_s", config.timeout_s) for b in config.branches])
        joined, failed = join_branches(outcomes)
        policy = config.join
        attributes = {"patchbay.parallel.branches": len(outcomes), "patchbay.parallel.failed": failed,
                      "patchbay.parallel.join": policy}
        why = join_failure(failed, len(outcomes), policy)
        if why:
            details = "; ".join(f"{o.name}: {o.error}" for o in outcomes if not o.ok)
            raise NodeFailed(f"{why} ({details})")
        return NodeOutcome(output=joined, attributes=attributes)
