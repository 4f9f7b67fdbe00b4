"""Limits on what a graph and a run input may be: each defined once, used by validation and the engine.

The host's storage is sized from these (a span's node id is a subgraph path of
node ids), and the API refuses input beyond them with a 400 naming the field,
so nothing the validator accepts is refused later by the database.
"""
from __future__ import annotations

# A node id: letters, digits and _, not starting with a digit.
MAX_NODE_ID = 64
# Subgraphs may nest, but not without end: a run's graph plus this many levels of subgraphs below it.
MAX_SUBGRAPH_DEPTH = 8
# The longest node id a span can carry: a node's id prefixed by the ids of the subgraph nodes above it ("qa/answer").
MAX_NODE_PATH = (MAX_SUBGRAPH_DEPTH + 1) * (MAX_NODE_ID + 1) - 1
# Arrays and objects inside one another, in a run input or a graph document. JSON encoders (the database
# driver's among them) recurse once per level, so a value hundreds of levels deep cannot be stored; this
# leaves room for the levels a run adds around its input (events, spans, subgraph inputs).
MAX_JSON_DEPTH = 100
