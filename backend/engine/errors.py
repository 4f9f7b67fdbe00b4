"""The engine's own exceptions, beneath everything that raises or catches them.

Imports nothing of the engine: nodes, steps, fan-out, the runtime and the
scheduler all use these, so they live at the bottom of the import graph.
"""
from __future__ import annotations


class NodeFailed(Exception):
    """A node could not produce its output; the message is shown to the user as is."""
