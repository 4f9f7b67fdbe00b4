"""orchestrator: a planner splits the task, workers do the parts at once, a synthesizer writes the answer."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..aggregate import join_failure
from ..fanout import run_branches
from ..problems import Problem
from ..steps import STEP_SCHEMA, check_step, run_step, step_templates
from .base import NodeFailed, NodeOutcome, NodeType, parse_config

if TYPE_CHECKING:
    from ..runtime import NodeContext
    from ..spec import GraphSpec, Node
    from ..types import ValidationContext

HARD_MAX_WORKERS = 16

PLAN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "subtasks": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"title": {"type": "string"}, "instructions": {"type": "string"}},
                "required": ["title", "instructions"],
            },
        }
    },
    "required": ["subtasks"],
}


@dataclass(frozen=True)
class OrchestratorConfig:
    planner: Mapping[str, Any]
    worker: Mapping[str, Any]
    synthesizer: Mapping[str, Any]
    max_workers: int
    worker_timeout_s: float
    on_worker_error: str


class OrchestratorNode(NodeType):
    type_name = "orchestrator"
    title = "Orchestrator and workers"
    pattern = "orchestrator-workers"
    description = ("For tasks whose parts you cannot list in advance: a planner decides the sub-tasks, workers do "
                   "them at the same time, and a writer combines their results.")
    config_schema = {
        "type": "object",
        "properties": {
            "planner": {**STEP_SCHEMA, "title": "Planner",
                        "description": "Returns the sub-tasks (title + instructions); sees input and nodes."},
            "worker": {**STEP_SCHEMA, "title": "Worker", "description": "Runs once per sub-task; sees {{ task }}."},
            "synthesizer": {**STEP_SCHEMA, "title": "Synthesizer",
                            "description": "Writes the answer; sees {{ results }} (task + output of each worker)."},
            "max_workers": {"type": "integer", "minimum": 1, "maximum": HARD_MAX_WORKERS, "default": 5,
                            "title": "Most sub-tasks to run", "description": "Extra sub-tasks are dropped and recorded."},
            "worker_timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600, "default": 60,
                                 "title": "Timeout per worker (s)"},
            "on_worker_error": {"enum": ["fail", "skip"], "default": "fail", "title": "When a worker fails",
                                "description": "fail: stop; skip: the synthesizer works with the rest."},
        },
        "required": ["planner", "worker", "synthesizer"],
        "additionalProperties": False,
    }

    def parse(self, config: Mapping[str, Any]) -> OrchestratorConfig:
        return parse_config(OrchestratorConfig, self.config_schema, config)

    def templates(self, config: Mapping[str, Any], ctx: ValidationContext) -> Iterable[tuple]:
        yield from step_templates(config.get("planner") or {}, ("planner",), ctx.prompts)
        for path, source in step_templates(config.get("worker") or {}, ("worker",), ctx.prompts):
            yield path, source, frozenset({"task", "index"})
        for path, source in step_templates(config.get("synthesizer") or {}, ("synthesizer",), ctx.prompts):
            yield path, source, frozenset({"results", "plan"})

    def check(self, node: Node, spec: GraphSpec, ctx: ValidationContext) -> Iterable[Problem]:
        base = f"nodes[{node.index}].config"
        for role in ("planner", "worker", "synthesizer"):
            yield from check_step(node.config[role], f"{base}.{role}", node.id, ctx)

    async def run(self, node: Node, ctx: NodeContext) -> NodeOutcome:
        config = self.parse(node.config)
        cap = min(config.max_workers, HARD_MAX_WORKERS)
        async with ctx.child("plan", "plan") as plan_ctx:
            plan = await run_step(plan_ctx, config.planner, name="plan", response_schema=PLAN_SCHEMA)
            plan_ctx.span.output = plan
        subtasks = plan["subtasks"][:cap]
        dropped = plan["subtasks"][cap:]

        def start(i: int, task: Mapping[str, Any]) -> Any:
            async def go() -> Any:
                async with ctx.child(f"worker {i + 1}: {task['title'][:60]}", "worker", input=task) as child:
                    child.span.output = await run_step(child.with_vars(task=task, index=i), config.worker,
                                                       name=f"worker {i + 1}")
                    return child.span.output
            return go

        outcomes = await run_branches([(t["title"], start(i, t)) for i, t in enumerate(subtasks)],
                                      config.worker_timeout_s)
        failed = [o.name for o in outcomes if not o.ok]
        policy = "require_all" if config.on_worker_error == "fail" else "best_effort"
        why = join_failure(failed, len(outcomes), policy) if outcomes else None
        if why:
            raise NodeFailed(f"worker {why}: " + "; ".join(f"{o.name}: {o.error}" for o in outcomes if not o.ok))
        results = [{"task": t, "output": o.value} for t, o in zip(subtasks, outcomes) if o.ok]
        async with ctx.child("synthesize", "synthesize") as synth_ctx:
            answer = await run_step(synth_ctx.with_vars(results=results, plan=subtasks), config.synthesizer,
                                    name="synthesize")
            synth_ctx.span.output = answer
        attributes = {
            "patchbay.orchestrator.planned": len(plan["subtasks"]),
            "patchbay.orchestrator.workers": len(subtasks),
            "patchbay.orchestrator.dropped": len(dropped),
            "patchbay.orchestrator.dropped_titles": [t["title"] for t in dropped],
            "patchbay.orchestrator.failed_workers": failed,
        }
        output = {"answer": answer, "subtasks": [t["title"] for t in subtasks],
                  "dropped": [t["title"] for t in dropped]}
        return NodeOutcome(output=output, attributes=attributes)
