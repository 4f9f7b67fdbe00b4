"""approval: a person sees what is about to happen and approves, rejects, or edits then approves.

The step renders its template over the upstream outputs (the draft shown to the
person) and, with no decision yet, asks for one: the run stops at ``waiting``
and frees its worker. When the decision comes the run resumes from its stored
state and this step fires ``approved`` (with the draft as approved, edited or
not) or ``rejected``; the graph decides what each leads to.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..approvals import DEFAULT_ACTIONS, PORT_FOR, AwaitingDecision
from ..problems import Problem
from .base import NodeOutcome, NodeType, parse_config

if TYPE_CHECKING:
    from ..runtime import NodeContext
    from ..spec import GraphSpec, Node
    from ..types import ValidationContext

ROLES = ("viewer", "editor", "admin")
DAY_S = 86_400


@dataclass(frozen=True)
class ApprovalConfig:
    title: str
    show: Any
    allow_edit: bool
    require_reason_on_reject: bool
    fields: list[dict[str, Any]]
    deciders_role: str
    deciders_members: list[str]
    max_wait_seconds: int
    on_deadline: str
    callback_url: str | None


class ApprovalNode(NodeType):
    type_name = "approval"
    title = "Approval"
    pattern = "people"
    description = (
        "Pause for a person: they see the draft, then approve it, edit it and approve, or reject it. "
        "The run waits without holding a worker, then goes on along 'approved' or 'rejected'."
    )
    config_schema = {
        "type": "object",
        "properties": {
            "title": {"type": "string", "title": "What to ask", "default": "Please review this before it goes out"},
            "show": {"title": "What the person sees (and may edit)", "format": "template",
                     "description": "A template over the earlier steps, e.g. {{ nodes.draft.output }}",
                     "default": "{{ input }}"},
            "allow_edit": {"type": "boolean", "title": "Let them edit the draft before approving", "default": True},
            "require_reason_on_reject": {"type": "boolean", "title": "A reason is required to reject",
                                         "default": True},
            "fields": {"type": "array", "title": "Extra questions they must answer", "default": [],
                       "items": {"type": "object", "properties": {
                           "name": {"type": "string", "title": "Name", "pattern": "^[a-z][a-z0-9_]*$"},
                           "label": {"type": "string", "title": "Question"},
                           "required": {"type": "boolean", "title": "Required", "default": True}},
                           "required": ["name"], "additionalProperties": False}},
            "deciders_role": {"enum": list(ROLES[1:]), "title": "Who may decide: anyone with this role or higher",
                              "default": "editor"},
            "deciders_members": {"type": "array", "items": {"type": "string"}, "default": [],
                                 "title": "Or only these members (usernames or emails)"},
            "max_wait_seconds": {"type": "integer", "minimum": 1, "maximum": 90 * DAY_S, "default": 3 * DAY_S,
                                 "title": "Deadline: how long to wait (seconds)"},
            "on_deadline": {"enum": list(DEFAULT_ACTIONS), "default": "reject",
                            "title": "When nobody decided by the deadline"},
            "callback_url": {"type": "string", "title": "Tell this URL a decision is waiting (optional)",
                             "maxLength": 2000},
        },
        "additionalProperties": False,
    }

    static_ports = ("approved", "rejected")

    def parse(self, config: Mapping[str, Any]) -> ApprovalConfig:
        return parse_config(ApprovalConfig, self.config_schema, config)

    def templates(self, config: Mapping[str, Any], ctx: ValidationContext
                  ) -> Iterable[tuple[tuple[str | int, ...], str]]:
        if isinstance(config.get("show"), str):
            yield ("show",), config["show"]

    def check(self, node: Node, spec: GraphSpec, ctx: ValidationContext) -> Iterable[Problem]:
        names = [f.get("name") for f in node.config.get("fields") or [] if isinstance(f, dict)]
        if len(names) != len(set(names)):
            yield Problem(f"nodes[{node.index}].config.fields", "each question needs its own name", node.id)
        if "reason" in names:
            yield Problem(f"nodes[{node.index}].config.fields", "'reason' is the reject reason's own name", node.id)

    async def run(self, node: Node, ctx: NodeContext) -> NodeOutcome:
        wait = ctx.approval_wait
        if wait is not None and wait.decision is not None:
            decision = wait.decision
            return NodeOutcome(output=decision.output, port=PORT_FOR[decision.action], attributes={
                "patchbay.approval.decision": decision.action, "patchbay.approval.by": decision.by,
                "patchbay.approval.at": decision.at, "patchbay.approval.via": decision.via,
                "patchbay.approval.fields": dict(decision.fields),
                "patchbay.approval.edited": decision.edited})
        config = self.parse(node.config)
        draft = await ctx.render_value(config.show)
        raise AwaitingDecision({
            "title": config.title, "draft": draft, "allow_edit": config.allow_edit,
            "require_reason_on_reject": config.require_reason_on_reject, "fields": config.fields,
            "deciders": {"role": config.deciders_role, "members": config.deciders_members},
            "max_wait_seconds": config.max_wait_seconds, "on_deadline": config.on_deadline,
            "callback_url": config.callback_url or None,
        })
