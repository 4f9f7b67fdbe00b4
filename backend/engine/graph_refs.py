"""How a subgraph names a saved graph: by the graph's id and version, never by its name.

A stored reference is ``{"graph": "#12@3"}``: graph 12, version 3, in the same
workspace. Names change and repeat; ids do neither, so a pinned version keeps
running exactly what it ran when it was saved, whatever is renamed or created
later. The name form ``{"graph": "shouter@3"}`` is still read where people
write or carry graph files (the API, imports, the command line): the host
resolves it once, at save, to the id form it stores. An exported file may add
``"name"`` beside an id reference for display and for re-import into another
workspace; the host drops it on save (see ``backend/graphs/selectors.py``).

Pure: no Django, no I/O.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .problems import join_path

# ASCII digits only: str.isdigit() accepts "²", which int() then refuses.
_PINNED = re.compile(r"#([0-9]{1,18})@([0-9]{1,9})")
_NAMED = re.compile(r"([^@\s#][^@\s]{0,199})@([0-9]{1,9})")


@dataclass(frozen=True)
class GraphRef:
    version: int
    graph_id: int | None = None  # the pinned form
    name: str | None = None  # the legacy / portable form, resolved at save

    @property
    def key(self) -> str:
        """What identifies the graph (any version): "#12", or the name for an unpinned reference."""
        return f"#{self.graph_id}" if self.graph_id is not None else str(self.name)


def parse_graph_ref(text: Any) -> GraphRef | None:
    """The reference a ``graph`` string holds, or None when it is neither form (the whole string must match)."""
    if not isinstance(text, str):
        return None
    pinned = _PINNED.fullmatch(text)
    if pinned:
        return GraphRef(graph_id=int(pinned.group(1)), version=int(pinned.group(2)))
    named = _NAMED.fullmatch(text)
    if named:
        return GraphRef(name=named.group(1), version=int(named.group(2)))
    return None


def pinned_ref(graph_id: int, version: int) -> str:
    return f"#{graph_id}@{version}"


def graph_key(ref: str) -> str:
    """The graph a reference string names, whatever the version ("#12@3" → "#12", "shouter@3" → "shouter")."""
    return ref.rpartition("@")[0]


def subgraph_ref_sites(value: Any, base: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every ``{"subgraph": {"graph": ...}}`` object anywhere in a document, inline subgraphs and pattern steps
    included, with the path of its ``subgraph`` value. Iterative: documents may nest deeply."""
    stack: list[tuple[Any, str]] = [(value, base)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, Mapping):
            sub = item.get("subgraph")
            if isinstance(sub, dict) and "graph" in sub:
                yield join_path(path, "subgraph"), sub
            stack.extend((child, join_path(path, str(key))) for key, child in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend((child, join_path(path, i)) for i, child in reversed(list(enumerate(item))))
