"""What every node type provides, and what a running node may use.

A node type is one module with one ``NodeType`` subclass, registered in
``nodes/__init__.py``. The registry is served to the canvas as the palette,
with each type's config JSON schema (the canvas builds its forms from it).
"""
from __future__ import annotations

import copy
import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from ..errors import NodeFailed
from ..problems import Problem
from ..templates import template_strings
from ..types import NodeOutcome

# Re-exported: node modules take what they need from here.
__all__ = ["NodeFailed", "NodeOutcome", "NodeType", "parse_config", "schema_defaults", "template_strings"]

if TYPE_CHECKING:
    from ..runtime import NodeContext
    from ..spec import GraphSpec, Node
    from ..types import ValidationContext


C = TypeVar("C")


def schema_defaults(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The ``default`` of each top-level property of a config schema: the one place defaults are written."""
    properties = schema.get("properties") or {}
    return {key: _fresh(prop["default"]) for key, prop in properties.items()
            if isinstance(prop, dict) and "default" in prop}


def _fresh(value: Any) -> Any:
    """A default the node may change without changing the schema: lists and objects copied, scalars as they are
    (every step of every run parses its config: a deepcopy per scalar default is most of that)."""
    return copy.deepcopy(value) if isinstance(value, (dict, list)) else value


def parse_config(cls: type[C], schema: Mapping[str, Any], config: Mapping[str, Any]) -> C:
    """A node's config (already valid against ``schema``) as its typed class, defaults filled from the schema.

    Fields the config leaves out and the schema gives no default for are None.
    """
    values = {**schema_defaults(schema), **config}
    return cls(**{f.name: values.get(f.name) for f in dataclasses.fields(cls)})  # type: ignore[arg-type]


class NodeType(ABC):
    type_name: ClassVar[str]
    title: ClassVar[str]
    pattern: ClassVar[str]  # the palette group: io | chaining | routing | ...
    description: ClassVar[str]  # one plain-language line: what it does and when it earns its keep
    config_schema: ClassVar[dict[str, Any]]
    # Extra template names this type provides to its own templates (e.g. "task").
    extra_template_roots: ClassVar[frozenset[str]] = frozenset()

    # Out-ports, by one rule shared with the canvas (graph-core/ports.ts reads both from the catalogue):
    # the labels the config names at ``ports_from_config``, then the static ports, each once.
    static_ports: ClassVar[tuple[str, ...]] = ("out",)
    # "<list>[].<field>": the string ``field`` of each item of the config's ``list`` (a router's "routes[].label").
    ports_from_config: ClassVar[str | None] = None

    def out_ports(self, config: Mapping[str, Any]) -> list[str]:
        """Named out-ports; an edge with no port uses the first one."""
        return derive_ports(self.ports_from_config, self.static_ports, config)

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
            "out_ports": list(self.static_ports),
            "ports_from_config": self.ports_from_config,
        }


def derive_ports(from_config: str | None, static: Iterable[str], config: Mapping[str, Any]) -> list[str]:
    """The out-port rule: non-blank string labels found at ``from_config`` ("<list>[].<field>"), then ``static``."""
    labels: list[str] = []
    if from_config:
        list_key, _, field = from_config.partition("[].")
        items = config.get(list_key)
        for item in items if isinstance(items, list) else []:
            label = item.get(field) if isinstance(item, dict) else None
            if isinstance(label, str) and label.strip():
                labels.append(label)
    return list(dict.fromkeys([*labels, *static]))
