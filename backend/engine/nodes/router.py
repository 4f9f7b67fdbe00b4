"""router: send the input down exactly one labelled path.

A router never fails closed: a low confidence, an unknown label, a timeout or
a model error takes the mandatory ``default`` route, and the reason is
recorded (label, confidence, default taken, latency) for the confusion matrix.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..budget import BudgetExceeded
from ..problems import Problem
from ..regex import pattern_problem, search
from ..steps import LLM_STEP_PROPERTIES, check_step, run_step, step_templates
from .base import NodeFailed, NodeOutcome, NodeType, parse_config

if TYPE_CHECKING:
    from ..runtime import NodeContext
    from ..spec import GraphSpec, Node
    from ..types import ValidationContext

DEFAULT_ROUTE = "default"
LABEL_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"

CLASSIFIER_PROMPT = """Classify the message into exactly one route.
{% for r in routes %}- {{ r.label }}: {{ r.description }}
{% endfor %}Labels: {{ routes | map(attribute='label') | join(', ') }}

Message:
{{ message }}"""


@dataclass(frozen=True)
class RouterConfig:
    mode: str
    input: str
    routes: list[dict[str, Any]]
    threshold: float
    timeout_s: float
    classifier: Mapping[str, Any] | None


class RouterNode(NodeType):
    type_name = "router"
    title = "Router"
    pattern = "routing"
    description = ("Sort each input into one category and send it down that path, so each kind of request gets "
                   "a prompt made for it. Unsure cases take the default path.")
    config_schema = {
        "type": "object",
        "properties": {
            "mode": {"enum": ["llm", "rules"], "default": "llm", "title": "How to decide",
                     "description": "llm: a model classifies; rules: keywords or patterns per route."},
            "input": {"type": "string", "title": "What to route", "format": "template",
                      "default": "{{ input }}"},
            "routes": {
                "type": "array", "title": "Routes", "minItems": 1, "maxItems": 20,
                "items": {
                    "type": "object",
                    "properties": {
                        "label": {"type": "string", "pattern": LABEL_PATTERN, "title": "Label"},
                        "description": {"type": "string", "title": "When to take it", "maxLength": 500},
                        "keywords": {"type": "array", "items": {"type": "string"}, "title": "Keywords (rules)"},
                        "pattern": {"type": "string", "title": "Pattern (rules, regex)"},
                    },
                    "required": ["label"],
                    "additionalProperties": False,
                },
            },
            "threshold": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5,
                          "title": "Minimum confidence", "description": "Below it, the default route is taken."},
            "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 600, "default": 15,
                          "title": "Classifier timeout (s)"},
            "classifier": {"type": "object", "title": "Classifier", "properties": LLM_STEP_PROPERTIES,
                           "additionalProperties": False,
                           "description": "Model and (optional) prompt; the prompt sees message and routes."},
        },
        "required": ["routes"],
        "additionalProperties": False,
    }

    static_ports = (DEFAULT_ROUTE,)
    ports_from_config = "routes[].label"

    def parse(self, config: Mapping[str, Any]) -> RouterConfig:
        return parse_config(RouterConfig, self.config_schema, config)

    def templates(self, config: Mapping[str, Any], ctx: ValidationContext) -> Iterable[tuple[tuple[str | int, ...], str] | tuple]:
        if isinstance(config.get("input"), str):
            yield ("input",), config["input"]
        classifier = config.get("classifier") or {}
        for path, source in step_templates(classifier, ("classifier",), ctx.prompts):
            yield path, source, frozenset({"message", "routes"})

    def check(self, node: Node, spec: GraphSpec, ctx: ValidationContext) -> Iterable[Problem]:
        base = f"nodes[{node.index}].config"
        config = self.parse(node.config)
        labels = [r["label"] for r in config.routes]
        for i, label in enumerate(labels):
            if label == DEFAULT_ROUTE:
                yield Problem(f"{base}.routes[{i}].label", "'default' is always there; name this route otherwise",
                              node.id)
            elif labels.index(label) != i:
                yield Problem(f"{base}.routes[{i}].label", f"label '{label}' is used twice", node.id)
        if config.mode == "llm":
            classifier = config.classifier
            if not classifier:
                yield Problem(f"{base}.classifier", "an llm router needs a classifier model", node.id)
            else:
                yield from check_step(classifier_step(classifier), f"{base}.classifier", node.id, ctx)
        else:
            for i, route in enumerate(config.routes):
                if isinstance(route.get("pattern"), str):
                    problem = pattern_problem(route["pattern"])
                    if problem:
                        yield Problem(f"{base}.routes[{i}].pattern", problem, node.id)
        if not any(e.source == node.id and e.port == DEFAULT_ROUTE for e in spec.edges):
            yield Problem(base, "connect the 'default' route: unsure inputs go there", node.id)

    async def run(self, node: Node, ctx: NodeContext) -> NodeOutcome:
        config = self.parse(node.config)
        routes = config.routes
        message = await ctx.render_text(config.input)
        started = time.monotonic()
        if config.mode == "rules":
            label, confidence, reason = match_rules(routes, message)
        else:
            label, confidence, reason = await self._classify(ctx, config, routes, message)
        labels = [r["label"] for r in routes]
        threshold = config.threshold
        chosen = label
        if label not in labels:
            chosen, reason = DEFAULT_ROUTE, reason or f"'{label}' is not a route"
        elif confidence < threshold:
            chosen, reason = DEFAULT_ROUTE, f"confidence {confidence:.2f} is below {threshold:g}"
        attributes = {
            "patchbay.router.label": label,
            "patchbay.router.route": chosen,
            "patchbay.router.confidence": confidence,
            "patchbay.router.default_taken": chosen == DEFAULT_ROUTE,
            "patchbay.router.latency_ms": round((time.monotonic() - started) * 1000, 3),
        }
        if reason:
            attributes["patchbay.router.reason"] = reason
        output = {"route": chosen, "label": label, "confidence": confidence, "default_taken": chosen == DEFAULT_ROUTE}
        return NodeOutcome(output=output, port=chosen, attributes=attributes)

    async def _classify(self, ctx: NodeContext, config: RouterConfig, routes: list[dict], message: str
                        ) -> tuple[str | None, float, str | None]:
        labels = [r["label"] for r in routes]
        schema = {
            "type": "object",
            "properties": {"label": {"enum": [*labels, DEFAULT_ROUTE]},
                           "confidence": {"type": "number", "minimum": 0, "maximum": 1}},
            "required": ["label", "confidence"],
        }
        step = classifier_step(config.classifier or {})
        routes_view = [{"label": r["label"], "description": r.get("description", "")} for r in routes]
        try:
            answer = await asyncio.wait_for(
                run_step(ctx.with_vars(message=message, routes=routes_view), step, name="classify",
                         response_schema=schema),
                timeout=config.timeout_s)
        except BudgetExceeded:
            raise  # a budget is a hard stop, not a reason to guess
        except TimeoutError:
            return None, 0.0, f"the classifier took longer than {config.timeout_s} s"
        except NodeFailed as exc:
            return None, 0.0, f"the classifier failed: {exc}"
        return answer["label"], float(answer["confidence"]), None


def match_rules(routes: Sequence[Mapping[str, Any]], message: str) -> tuple[str | None, float, str | None]:
    """The first route whose keyword or pattern occurs in the message (case-insensitive)."""
    lowered = message.lower()
    for route in routes:
        if any(k.lower() in lowered for k in route.get("keywords", []) if k):
            return route["label"], 1.0, None
        if route.get("pattern") and search(route["pattern"], message, ignore_case=True):
            return route["label"], 1.0, None
    return None, 0.0, "no rule matched"


def classifier_step(classifier: Mapping[str, Any]) -> dict[str, Any]:
    """The classifier as configured, with the built-in prompt when the user wrote none."""
    step = dict(classifier)
    if "prompt" not in step and "prompt_ref" not in step:
        step["prompt"] = CLASSIFIER_PROMPT
    return step
