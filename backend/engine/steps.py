"""A *step*: one model call, or a whole graph, standing where a model call stands.

Pattern nodes are built from steps (a router's classifier, a vote's sample, a
planner, workers, a generator and an evaluator). A step is the ``llm`` node's
config, or ``{"subgraph": {"graph": "#12@3"} | {"spec": {...}}, "input": {...}}``
to put a whole pattern in its place — that is how patterns compose.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .errors import NodeFailed
from .ports import DEFAULT_CACHE_TTL_S, LLMRequest
from .problems import Problem
from .schemas import SchemaUnusable, schema_errors, schema_problems
from .template_limits import RenderGuard
from .templates import analyse, render_text, template_strings

if TYPE_CHECKING:
    from .runtime import NodeContext
    from .types import ValidationContext

PROMPT_REF_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*@([A-Za-z][A-Za-z0-9_-]*|[0-9]+)$"
# What a subgraph (node or step) gets when its config gives no input: the caller's own input.
DEFAULT_STEP_INPUT = "{{ input }}"
GRAPH_REF_PATTERN = r"^[^@\s]{1,200}@[0-9]+$"
MAX_CACHE_TTL_S = 30 * 24 * 3600

MODEL_PARAMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Model parameters",
    "properties": {
        "temperature": {"type": "number", "minimum": 0, "maximum": 2},
        "max_tokens": {"type": "integer", "minimum": 1, "maximum": 200000},
        "top_p": {"type": "number", "minimum": 0, "maximum": 1},
        "seed": {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1},  # what providers take
        "stop": {"type": "array", "items": {"type": "string"}, "maxItems": 4},
    },
    "additionalProperties": False,
}

LLM_STEP_PROPERTIES: dict[str, Any] = {
    "model": {"type": "string", "title": "Model", "maxLength": 200, "description": "A model alias: fast, frontier, judge..."},
    "prompt": {"type": "string", "title": "Prompt", "format": "template", "maxLength": 100000,
               "description": "What to ask. Use {{ input.x }} and {{ nodes.<id>.output }}."},
    "system": {"type": "string", "title": "System prompt", "format": "template", "maxLength": 100000},
    "prompt_ref": {"type": "string", "title": "Saved prompt", "pattern": PROMPT_REF_PATTERN,
                   "description": "Use a saved prompt instead: name@production, name@staging or name@3."},
    "params": MODEL_PARAMS_SCHEMA,
    "output_schema": {"type": "object", "title": "Structured output (JSON schema)",
                      "description": "Ask for JSON of this shape; the answer is checked against it."},
    "cache": {"type": "boolean", "title": "Cache answers", "description": "Default: cache only when temperature is 0."},
    "cache_ttl_s": {"type": "integer", "title": "Cache for (seconds)", "minimum": 1, "maximum": MAX_CACHE_TTL_S,
                    "default": DEFAULT_CACHE_TTL_S, "description": "How long a cached answer is served (default: a day)."},
}

SUBGRAPH_REF_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Graph to run",
    "properties": {
        "graph": {"type": "string", "pattern": GRAPH_REF_PATTERN, "format": "graph-ref",
                  "title": "Saved graph, pinned",
                  "description": "A saved graph of this workspace at one version, stored as #<graph id>@<version> "
                                 "(name@version is accepted and pinned when saved)."},
        "spec": {"type": "object", "title": "Inline graph (patchbay.graph/v1)"},
    },
    "minProperties": 1,
    "maxProperties": 1,
    "additionalProperties": False,
}

STEP_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Step",
    "description": "A model call, or a whole graph in its place (subgraph).",
    "properties": {
        **LLM_STEP_PROPERTIES,
        "subgraph": SUBGRAPH_REF_SCHEMA,
        "input": {"title": "Subgraph input", "description": "Templates giving the subgraph's input."},
    },
    "additionalProperties": False,
}


def is_subgraph(step: Mapping[str, Any]) -> bool:
    return "subgraph" in step


def step_templates(step: Mapping[str, Any], path: tuple[str | int, ...], prompts: Mapping[str, Any] | None
                   ) -> Iterable[tuple[tuple[str | int, ...], str]]:
    if is_subgraph(step):
        yield from template_strings(step.get("input"), (*path, "input"))
        return
    for key in ("prompt", "system"):
        if isinstance(step.get(key), str):
            yield (*path, key), step[key]
    ref = step.get("prompt_ref")
    prompt = (prompts or {}).get(ref) if isinstance(ref, str) else None
    if prompt is not None:
        yield (*path, "prompt_ref"), prompt.template
        if prompt.system:
            yield (*path, "prompt_ref"), prompt.system


def check_step(step: Mapping[str, Any], base: str, node_id: str, ctx: ValidationContext) -> Iterable[Problem]:
    """What the JSON schema cannot say about a step: one prompt, known model, known saved prompt."""
    if is_subgraph(step):
        if any(k in step for k in LLM_STEP_PROPERTIES):
            yield Problem(base, "a step is either a model call or a subgraph, not both", node_id)
        return
    if "model" not in step:
        yield Problem(f"{base}.model", "pick a model", node_id)
    if ("prompt" in step) == ("prompt_ref" in step):
        yield Problem(f"{base}.prompt", "write a prompt or pick a saved prompt (prompt_ref), exactly one", node_id)
    ref = step.get("prompt_ref")
    if "prompt_ref" in step and ctx.prompts is not None and ref not in ctx.prompts:
        yield Problem(f"{base}.prompt_ref", f"no saved prompt matches '{ref}'", node_id)
    if isinstance(step.get("prompt"), str) and renders_empty(step["prompt"]):
        yield Problem(f"{base}.prompt", "the prompt is empty: the model would be sent an empty message", node_id)
    saved = ctx.prompts.get(ref) if isinstance(ref, str) and ctx.prompts is not None else None
    if saved is not None and isinstance(saved.template, str) and renders_empty(saved.template):
        yield Problem(f"{base}.prompt_ref", f"the saved prompt '{ref}' is empty: the model would be sent an empty "
                                            "message", node_id)
    model = step.get("model")
    if model is not None and ctx.model_aliases is not None and model not in ctx.model_aliases:
        known = ", ".join(sorted(ctx.model_aliases)) or "none"
        yield Problem(f"{base}.model", f"unknown model alias '{model}' (known: {known})", node_id)
    schema = step.get("output_schema")
    if isinstance(schema, dict):
        yield from schema_problems(schema, f"{base}.output_schema", node_id)


def renders_empty(source: str) -> bool:
    """True when a prompt is blank, or reads no variable and renders to blank (``{{ "" }}``, ``{% if false %}``).

    A prompt that reads variables may still render blank for some input: run_step refuses that at run time.
    """
    if not source.strip():
        return True
    refs = analyse(source)
    if refs.syntax_error or refs.roots or refs.private_attributes:
        return False  # reported elsewhere, or depends on the run
    try:
        return not render_text(source, {}, RenderGuard(0.25)).strip()  # a moment: validation runs in requests
    except Exception:  # noqa: BLE001 - a constant that fails to render is the template checks' to report
        return False


async def run_step(ctx: NodeContext, step: Mapping[str, Any], *, name: str = "llm",
                   response_schema: Mapping[str, Any] | None = None, params: Mapping[str, Any] | None = None,
                   stream: bool = False) -> Any:
    """Run a step in a node's context; returns parsed JSON when a schema applies, else text.

    ``response_schema`` is imposed by the pattern (a planner's subtask list, an
    evaluator's verdict) and wins over the step's own ``output_schema``.
    """
    if is_subgraph(step):
        doc = ctx.resolve_subgraph(step["subgraph"])
        sub_input = await ctx.render_value(step.get("input", DEFAULT_STEP_INPUT))
        output = await ctx.run_subgraph(doc, sub_input)
        if response_schema is not None:
            try:
                errors = schema_errors(response_schema, output)
            except SchemaUnusable as exc:
                raise NodeFailed(f"this step's output schema cannot be used: {exc}") from None
            if errors:
                raise NodeFailed(f"the subgraph's output does not have the shape this step needs: {errors[0].message}")
        return output
    # Besides the rendered messages, a cached answer depends on the step as configured and the prompt version.
    cache_context: dict[str, Any] = {"step": {k: v for k, v in step.items() if k not in ("cache", "cache_ttl_s")}}
    if "prompt_ref" in step:
        prompt = ctx.prompts.get(step["prompt_ref"])
        if prompt is None:
            raise NodeFailed(f"no saved prompt matches '{step['prompt_ref']}'")
        user, system = prompt.template, prompt.system
        cache_context["prompt"] = {"ref": prompt.ref, "version_id": prompt.version_id}
        ctx.span.attributes["patchbay.prompt.ref"] = prompt.ref
        if prompt.version_id:
            ctx.span.attributes["patchbay.prompt.version_id"] = prompt.version_id
    else:
        user, system = step["prompt"], step.get("system")
    messages = []
    if system:
        messages.append({"role": "system", "content": await ctx.render_text(system)})
    content = await ctx.render_text(user)
    if not content.strip():
        raise NodeFailed("the prompt rendered to nothing but whitespace: no empty message is sent to the model")
    messages.append({"role": "user", "content": content})
    schema = response_schema if response_schema is not None else step.get("output_schema")
    request = LLMRequest(
        alias=step["model"],
        messages=messages,
        params={**(step.get("params") or {}), **(params or {})},
        response_schema=dict(schema) if schema is not None else None,
        stream=stream,
        cache=step.get("cache"),
        cache_ttl_s=step.get("cache_ttl_s"),
        cache_context=cache_context,
    )
    result = await ctx.call_llm(request, name=name)
    return result.parsed if schema is not None else result.text
