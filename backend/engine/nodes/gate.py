"""gate: a programmatic check between chain steps — pass on, or stop early.

Gates are code, not a model: they catch a step that produced nothing usable
before more money is spent on the steps after it. The share of runs that exit
at a gate is recorded on its span (``patchbay.gate.passed``).
"""
from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..problems import Problem
from ..regex import pattern_problem, search
from ..schemas import SchemaUnusable, schema_errors, schema_problems
from .base import NodeFailed, NodeOutcome, NodeType, parse_config, schema_defaults
from .transform import VALUE_SCHEMA

if TYPE_CHECKING:
    from ..runtime import NodeContext
    from ..spec import GraphSpec, Node
    from ..types import ValidationContext

COMPARISONS = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "contains": lambda a, b: b in a,
    "not_contains": lambda a, b: b not in a,
    "is_empty": lambda a, _b: not a,
    "not_empty": lambda a, _b: bool(a),
}


@dataclass(frozen=True)
class GateConfig:
    check: Mapping[str, Any]
    message: str


class GateNode(NodeType):
    type_name = "gate"
    title = "Gate"
    pattern = "chaining"
    description = (
        "Check a step's result with a rule (JSON shape, pattern or comparison). "
        "On a fail, stop early with a message or take the 'fail' path."
    )
    config_schema = {
        "type": "object",
        "properties": {
            "check": {
                "type": "object",
                "title": "Check",
                "properties": {
                    "kind": {"enum": ["json_schema", "regex", "compare"], "title": "Kind of check"},
                    "value": VALUE_SCHEMA,
                    "schema": {"type": "object", "title": "JSON schema the value must match"},
                    "pattern": {"type": "string", "title": "Pattern the value must contain (regex)"},
                    "ignore_case": {"type": "boolean", "default": False},
                    "op": {"enum": list(COMPARISONS), "title": "Comparison"},
                    "operand": {"title": "Compared with"},
                },
                "required": ["kind", "value"],
                "additionalProperties": False,
                "allOf": [
                    {"if": {"properties": {"kind": {"const": "json_schema"}}}, "then": {"required": ["schema"]}},
                    {"if": {"properties": {"kind": {"const": "regex"}}}, "then": {"required": ["pattern"]}},
                    {"if": {"properties": {"kind": {"const": "compare"}}}, "then": {"required": ["op"]}},
                ],
            },
            "message": {"type": "string", "title": "Message when it fails", "format": "template",
                        "default": "The input did not pass the check."},
        },
        "required": ["check"],
        "additionalProperties": False,
    }

    static_ports = ("pass", "fail")

    def parse(self, config: Mapping[str, Any]) -> GateConfig:
        return parse_config(GateConfig, self.config_schema, config)

    def templates(self, config: Mapping[str, Any], ctx: ValidationContext) -> Iterable[tuple[tuple[str | int, ...], str]]:
        check = config.get("check") or {}
        if isinstance(check.get("value"), str):
            yield ("check", "value"), check["value"]
        if isinstance(config.get("message"), str):
            yield ("message",), config["message"]

    def check(self, node: Node, spec: GraphSpec, ctx: ValidationContext) -> Iterable[Problem]:
        check = node.config.get("check") or {}
        base = f"nodes[{node.index}].config.check"
        if check.get("kind") == "regex" and isinstance(check.get("pattern"), str):
            problem = pattern_problem(check["pattern"])
            if problem:
                yield Problem(f"{base}.pattern", problem, node.id)
        if check.get("kind") == "json_schema" and isinstance(check.get("schema"), dict):
            yield from schema_problems(check["schema"], f"{base}.schema", node.id)

    async def run(self, node: Node, ctx: NodeContext) -> NodeOutcome:
        config = self.parse(node.config)
        check = config.check
        value = await ctx.render_value(check["value"])
        passed, reason = evaluate_check(check, value)
        attributes = {"patchbay.gate.passed": passed, "patchbay.gate.kind": check["kind"]}
        if passed:
            return NodeOutcome(output=value, port="pass", attributes=attributes)
        attributes["patchbay.gate.reason"] = reason
        has_fail_path = any(e.port == "fail" for e in ctx.outgoing_edges)
        if has_fail_path:
            return NodeOutcome(output=value, port="fail", attributes=attributes)
        # A blank message is no message: the schema's default stands in (as for a missing one).
        message = await ctx.render_text(config.message or schema_defaults(self.config_schema)["message"])
        return NodeOutcome(output=value, port="fail", exit_message=message, attributes=attributes)


def evaluate_check(check: Mapping[str, Any], value: Any) -> tuple[bool, str]:
    """Apply a gate's check to a value: (passed, why not)."""
    kind = check["kind"]
    if kind == "json_schema":
        try:
            errors = schema_errors(check["schema"], value)
        except SchemaUnusable as exc:  # a graph saved before refs were checked at save time
            raise NodeFailed(f"the gate's JSON schema cannot be used: {exc}") from None
        return (not errors, errors[0].message if errors else "")
    if kind == "regex":
        text = value if isinstance(value, str) else str(value)
        found = search(check["pattern"], text, ignore_case=bool(check.get("ignore_case")))
        return (found, "" if found else f"no match for /{check['pattern']}/")
    op = check["op"]
    try:
        ok = bool(COMPARISONS[op](value, check.get("operand")))
    except TypeError as exc:
        return False, f"cannot compare: {exc}"
    return ok, "" if ok else f"{value!r} {op} {check.get('operand')!r} is false"
