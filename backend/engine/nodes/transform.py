"""transform: reshape data with templates, no model call."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .base import NodeOutcome, NodeType, template_strings

if TYPE_CHECKING:
    from ..runtime import NodeContext
    from ..spec import Node
    from ..types import ValidationContext

VALUE_SCHEMA: dict[str, Any] = {
    "title": "Value",
    "description": "A template (\"{{ nodes.extract.output.amount }}\"), or an object or list of templates. "
    "A template that is a single {{ expression }} keeps its type (number, list, object).",
}


class TransformNode(NodeType):
    type_name = "transform"
    title = "Transform"
    pattern = "data"
    description = "Reshape or format data with a template, without calling a model: cheap, fast and exact."
    config_schema = {
        "type": "object",
        "properties": {"value": VALUE_SCHEMA},
        "required": ["value"],
        "additionalProperties": False,
    }

    def templates(self, config: Mapping[str, Any], ctx: ValidationContext
                  ) -> Iterable[tuple[tuple[str | int, ...], str]]:
        return template_strings(config.get("value"), ("value",))

    async def run(self, node: Node, ctx: NodeContext) -> NodeOutcome:
        return NodeOutcome(output=await ctx.render_value(node.config["value"]))
