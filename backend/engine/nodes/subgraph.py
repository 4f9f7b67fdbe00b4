"""subgraph: another graph — a pinned version, or an inline spec — run as one node."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..spec import Budget
from ..steps import DEFAULT_STEP_INPUT, SUBGRAPH_REF_SCHEMA
from .base import NodeOutcome, NodeType, template_strings

if TYPE_CHECKING:
    from ..runtime import NodeContext
    from ..spec import Node
    from ..types import ValidationContext


class SubgraphNode(NodeType):
    type_name = "subgraph"
    title = "Subgraph"
    pattern = "composition"
    description = ("Use a whole saved flow as one step, pinned to a version: build a pattern once and reuse it "
                   "wherever a single model call would go.")
    config_schema = {
        "type": "object",
        "properties": {
            "subgraph": SUBGRAPH_REF_SCHEMA,
            "input": {"title": "Input", "description": "Templates giving the subgraph's input (default: this input)."},
            "budget": {
                "type": "object", "title": "Budget share",
                "description": "Limits for this subgraph, within the run's own budget.",
                "properties": {
                    "max_cost_usd": {"type": "number", "exclusiveMinimum": 0},
                    "max_seconds": {"type": "number", "exclusiveMinimum": 0},
                    "max_llm_calls": {"type": "integer", "minimum": 1},
                },
                "additionalProperties": False,
            },
        },
        "required": ["subgraph"],
        "additionalProperties": False,
    }

    def templates(self, config: Mapping[str, Any], ctx: ValidationContext) -> Iterable[tuple]:
        return template_strings(config.get("input"), ("input",))

    async def run(self, node: Node, ctx: NodeContext) -> NodeOutcome:
        config = node.config
        doc = ctx.resolve_subgraph(config["subgraph"])
        value = await ctx.render_value(config.get("input", DEFAULT_STEP_INPUT))
        budget = Budget.from_dict(config.get("budget")) if config.get("budget") else None
        ref = config["subgraph"].get("graph") or f"inline:{doc.get('name')}"
        ctx.span.attributes["patchbay.subgraph"] = ref
        output = await ctx.run_subgraph(doc, value, budget=budget)
        return NodeOutcome(output=output)
