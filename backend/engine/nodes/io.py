"""input and output: where data enters the graph and what the graph returns."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .base import NodeOutcome, NodeType
from .transform import TransformNode

if TYPE_CHECKING:
    from ..runtime import NodeContext
    from ..spec import Node


class InputNode(NodeType):
    type_name = "input"
    title = "Input"
    pattern = "io"
    description = "Where the run's input enters. Its shape is the graph's input schema."
    config_schema = {"type": "object", "properties": {}, "additionalProperties": False}

    async def run(self, node: Node, ctx: NodeContext) -> NodeOutcome:
        return NodeOutcome(output=ctx.template_context["input"])


class OutputNode(TransformNode):
    type_name = "output"
    title = "Output"
    pattern = "io"
    description = "What the graph returns to its caller: pick and name the values that matter."

    static_ports = ()
