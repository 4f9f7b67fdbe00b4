"""The node-type registry: adding a node type is one module plus one line here."""
from __future__ import annotations

from .approval import ApprovalNode
from .base import NodeType
from .evaluator_optimizer import EvaluatorOptimizerNode
from .gate import GateNode
from .io import InputNode, OutputNode
from .llm import LLMNode
from .orchestrator import OrchestratorNode
from .parallel import ParallelNode
from .router import RouterNode
from .subgraph import SubgraphNode
from .transform import TransformNode
from .vote import VoteNode

NODE_TYPES: dict[str, NodeType] = {
    t.type_name: t
    for t in (
        InputNode(),
        OutputNode(),
        LLMNode(),
        GateNode(),
        TransformNode(),
        RouterNode(),
        ParallelNode(),
        VoteNode(),
        OrchestratorNode(),
        EvaluatorOptimizerNode(),
        SubgraphNode(),
        ApprovalNode(),
    )
}


class UnknownNodeType(KeyError):
    pass


def get_node_type(type_name: str) -> NodeType:
    try:
        return NODE_TYPES[type_name]
    except KeyError:
        raise UnknownNodeType(type_name) from None


def catalogue() -> list[dict]:
    """Every node type with its config schema, for the canvas palette and forms."""
    return [t.catalogue_entry() for t in NODE_TYPES.values()]
