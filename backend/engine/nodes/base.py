"""What every node type provides, and what a running node may use.

A node type is one module with one ``NodeType`` subclass, registered in
``nodes/__init__.py``. The registry is served to the canvas as the palette,
with each type's config JSON schema (the canvas builds its forms from it).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from ..problems import Problem

if TYPE_CHECKING:
    from ..runtime import NodeContext
    from ..spec import GraphSpec, Node
    from ..validation import ValidationContext


@dataclass
class NodeOutcome:
    output: Any
    # Which out-port fired; edges on other ports are not taken. None = the default port.
    port: str | None = None
    # Set by a gate that stops the whole run early, with this message as its result.
    exit_message: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


class NodeFailed(Exception):
    """A node could not produce its output; the message is shown to the user as is."""


class NodeType(ABC):
    type_name: ClassVar[str]
    title: ClassVar[str]
    pattern: ClassVar[str]  # the palette group: io | chaining | routing | ...
    description: ClassVar[str]  # one plain-language line: what it does and when it earns its keep
    config_schema: ClassVar[dict[str, Any]]
    # Extra template names this type provides to its own templates (e.g. "task").
    extra_template_roots: ClassVar[frozenset[str]] = frozenset()

    def out_ports(self, config: Mapping[str, Any]) -> list[str]:
        """Named out-ports; an edge with no port uses the first one."""
        return ["out"]

    def templates(
        self, config: Mapping[str, Any], ctx: ValidationContext
    ) -> Iterable[tuple[tuple[str | int, ...], str]]:
        """(path within config, template source) for every template the node will render."""
        return ()

    def check(self, node: Node, spec: GraphSpec, ctx: ValidationContext) -> Iterable[Problem]:
        """Checks beyond the JSON schema (model aliases exist, prompt references resolve, ...)."""
        return ()

    @abstractmethod
    async def run(self, node: Node, ctx: NodeContext) -> NodeOutcome:
        """Produce the node's output from its config and the outputs upstream."""

    def catalogue_entry(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "title": self.title,
            "pattern": self.pattern,
            "description": self.description,
            "config_schema": self.config_schema,
            "out_ports": self.out_ports({}),
        }


def template_strings(value: Any, path: tuple[str | int, ...] = ()) -> Iterable[tuple[tuple[str | int, ...], str]]:
    """Every string inside a JSON value, with its path: strings in mappings are templates.

    In document order, with an explicit stack: no recursion, however deep the value.
    """
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            stack.extend((v, (*where, k)) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((v, (*where, i)) for i, v in reversed(list(enumerate(item))))
