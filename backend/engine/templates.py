"""Sandboxed Jinja templates: rendering, and static analysis for validation.

Templates see two roots: ``input`` (the run input) and ``nodes`` (each
upstream node's ``output``). Some node types add their own names (a worker
sees ``task``). Analysis happens before a run so that a template naming an
unknown node, or reaching for ``__class__``, is refused at save time rather
than failing in production.
"""
from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from jinja2 import TemplateSyntaxError, Undefined, nodes
from jinja2.exceptions import UndefinedError
from jinja2.sandbox import SecurityError

from .step_views import SkippedStep
from .template_limits import (
    MAX_TEXT_CHARS,
    RenderGuard,
    RenderTimeout,
    TemplateLimitError,
)
from .template_sandbox import current_guard, render_guard_var, sandbox_env, tojson

BASE_ROOTS = frozenset({"input", "nodes"})

# "{{ expr }}" and nothing else: rendered as the native value, not its string.
_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\}\}|\{\{).)*)\}\}\s*$", re.S)


class TemplateError(Exception):
    """A template failed to render (unknown variable, refused operation, bad syntax)."""


@dataclass
class TemplateRefs:
    roots: set[str] = field(default_factory=set)
    node_ids: set[str] = field(default_factory=set)
    node_fields: set[tuple[str, str]] = field(default_factory=set)  # ("extract", "output")
    input_fields: set[str] = field(default_factory=set)
    private_attributes: set[str] = field(default_factory=set)
    syntax_error: str | None = None
    # Steps whose output is read with nothing to fall back on if the step did not run on this path:
    # not under ``| default(...)``, and never tested (``is defined``, ``.ran``, ``'x' in nodes``).
    unguarded_node_ids: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _Compiled:
    kind: str  # "expr": a single {{ expression }}, rendered as its native value; "text"
    obj: Any
    # Only names, lookups, constants and tests: renders in microseconds, no thread needed.
    plain: bool


# Nodes that cannot repeat work or build a value larger than what they read.
_PLAIN_NODES = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Getattr, nodes.Getitem,
                nodes.Const, nodes.If, nodes.CondExpr, nodes.Compare, nodes.Operand, nodes.And, nodes.Or,
                nodes.Not, nodes.Slice)


def _is_plain(tree: nodes.Node) -> bool:
    return all(isinstance(n, _PLAIN_NODES) for n in tree.find_all(nodes.Node)) and isinstance(tree, _PLAIN_NODES)


@lru_cache(maxsize=4096)
def _compiled(source: str) -> _Compiled:
    match = _SINGLE_EXPRESSION.match(source)
    if match:
        expr = match.group("expr").strip()
        plain = _is_plain(sandbox_env.parse("{{ " + expr + " }}"))
        return _Compiled("expr", sandbox_env.compile_expression(expr, undefined_to_none=False), plain)
    return _Compiled("text", sandbox_env.from_string(source), _is_plain(sandbox_env.parse(source)))


def _compile(source: str) -> _Compiled:
    try:
        return _compiled(source)
    except TemplateSyntaxError as exc:
        raise TemplateError(f"syntax error: {exc.message}") from exc
    except RecursionError as exc:  # Jinja parses and compiles recursively; validation refuses deep templates
        raise TemplateError(f"template limit: nested more than {MAX_TEMPLATE_NESTING} levels deep") from exc


# Jinja's parser, compiler and our analysis recurse once (or a dozen frames) per level of nesting: brackets,
# blocks inside blocks, operators applied to operators. Validation keeps every template well inside the stack.
MAX_TEMPLATE_NESTING = 40
MAX_TEMPLATE_BRACKETS = 20


def nesting_problem(source: str) -> str | None:
    """Why ``source`` nests too deeply to parse and render safely, or None. Iterative: cheap on any input."""
    depth = 0
    try:
        for _line, kind, value in sandbox_env.lex(source):
            if kind == "operator" and value in "([{":
                depth += 1
                if depth > MAX_TEMPLATE_BRACKETS:
                    return f"brackets nested more than {MAX_TEMPLATE_BRACKETS} levels deep"
            elif kind == "operator" and value in ")]}":
                depth -= 1
    except TemplateSyntaxError:
        return None  # the parser reports it, with its line
    try:
        tree = sandbox_env.parse(source)
    except TemplateSyntaxError:
        return None
    except RecursionError:
        return f"nested more than {MAX_TEMPLATE_NESTING} levels deep"
    stack: list[tuple[nodes.Node, int]] = [(tree, 1)]
    while stack:
        node, level = stack.pop()
        if level > MAX_TEMPLATE_NESTING:
            return f"nested more than {MAX_TEMPLATE_NESTING} levels deep (blocks, filters and operators)"
        stack.extend((child, level + 1) for child in node.iter_child_nodes())
    return None


def _render(compiled: _Compiled, context: Mapping[str, Any], native: bool) -> Any:
    if compiled.kind == "expr":
        value = compiled.obj(**context)
        if isinstance(value, Undefined):
            value._fail_with_undefined_error()
        if isinstance(value, SkippedStep):
            value.fail()
        if native:
            return value
        if isinstance(value, str):
            return value
        current_guard().check_weight(value, "the rendered value")
        return _to_text(value)
    # Streamed, so the output's size is checked as it grows rather than once it is all built.
    guard, size, chunks = current_guard(), 0, []
    for chunk in compiled.obj.generate(**context):
        size += len(chunk)
        if size > MAX_TEXT_CHARS:
            raise TemplateLimitError(f"the rendered text is longer than {MAX_TEXT_CHARS:,} characters")
        chunks.append(chunk)
        guard.tick()
    return "".join(chunks)


def _guarded(guard: RenderGuard, fn: Callable[[], Any]) -> Any:
    """Run ``fn`` with ``guard`` counting its work, and turn its failures into TemplateError."""
    token = render_guard_var.set(guard)
    try:
        return fn()
    except RenderTimeout as exc:
        if exc.by_budget:
            raise  # the node's host turns it into BudgetExceeded, naming the node
        raise TemplateError(f"template limit: {exc}") from exc
    except TemplateLimitError as exc:
        raise TemplateError(f"template limit: {exc}") from exc
    except SecurityError as exc:
        raise TemplateError(f"refused by the sandbox: {exc}") from exc
    except UndefinedError as exc:
        raise TemplateError(str(exc)) from exc
    except TemplateSyntaxError as exc:
        raise TemplateError(f"syntax error: {exc.message}") from exc
    except RecursionError as exc:
        raise TemplateError("template limit: the template recursed too deeply") from exc
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise TemplateError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        render_guard_var.reset(token)


def _to_text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return tojson(value)
    return str(value)


def render_text(source: str, context: Mapping[str, Any], guard: RenderGuard | None = None) -> str:
    """Render to a string (objects and lists become JSON), here and now, within the template limits."""
    compiled = _compile(source)
    return _guarded(guard or RenderGuard(), lambda: _render(compiled, context, native=False))


def render_value(source: Any, context: Mapping[str, Any], guard: RenderGuard | None = None) -> Any:
    """Render a value: ``"{{ expr }}"`` keeps its native type; dicts and lists recurse."""
    guard = guard or RenderGuard()
    if isinstance(source, str):
        compiled = _compile(source)
        return _guarded(guard, lambda: _render(compiled, context, native=True))
    if isinstance(source, dict):
        return {k: render_value(v, context, guard) for k, v in source.items()}
    if isinstance(source, list):
        return [render_value(v, context, guard) for v in source]
    return source


# Renders that may compute run here, off the event loop the worker's runs share: the loop keeps
# serving other runs (the interpreter switches threads every few ms) while the guard counts the
# render's work and stops it at its deadline or when its run is cancelled.
RENDER_THREADS = 8
_render_pool = ThreadPoolExecutor(max_workers=RENDER_THREADS, thread_name_prefix="patchbay-render")


def _templates_in(source: Any) -> list[str]:
    if isinstance(source, str):
        return [source]
    if isinstance(source, dict):
        return [t for v in source.values() for t in _templates_in(v)]
    if isinstance(source, list):
        return [t for v in source for t in _templates_in(v)]
    return []


async def _off_loop(source: Any, fn: Callable[[RenderGuard], Any], seconds: float | None) -> Any:
    guard = RenderGuard(seconds, by_budget=seconds is not None)
    if all(_compile(t).plain for t in _templates_in(source)):
        return fn(guard)
    future = asyncio.get_running_loop().run_in_executor(_render_pool, fn, guard)
    try:
        return await future
    except asyncio.CancelledError:
        guard.cancelled.set()  # the thread sees it at its next operation and gives up
        raise


async def render_text_async(source: str, context: Mapping[str, Any], *, seconds: float | None = None) -> str:
    """``render_text`` for a running node: off the event loop, stopped after ``seconds``
    (what is left of the run's time budget: RenderTimeout then)."""
    return await _off_loop(source, lambda guard: render_text(source, context, guard), seconds)


async def render_value_async(source: Any, context: Mapping[str, Any], *, seconds: float | None = None) -> Any:
    """``render_value`` for a running node; see ``render_text_async``."""
    return await _off_loop(source, lambda guard: render_value(source, context, guard), seconds)


def analyse(source: str) -> TemplateRefs:
    """Which names and node outputs a template reads, and anything it must not touch."""
    refs = TemplateRefs()
    too_deep = nesting_problem(source)
    if too_deep:
        refs.syntax_error = too_deep
        return refs
    try:
        tree = sandbox_env.parse(source)
    except TemplateSyntaxError as exc:
        refs.syntax_error = f"line {exc.lineno}: {exc.message}"
        return refs
    # Names bound inside the template ({% set %}, {% for x in %}) are not free variables.
    bound = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    for name in tree.find_all(nodes.Name):
        if name.ctx == "load" and name.name not in bound:
            refs.roots.add(name.name)
    for getattr_node in tree.find_all(nodes.Getattr):
        if getattr_node.attr.startswith("_"):
            refs.private_attributes.add(getattr_node.attr)
        target = getattr_node.node
        if isinstance(target, nodes.Name) and target.ctx == "load" and target.name not in bound:
            if target.name == "nodes":
                refs.node_ids.add(getattr_node.attr)
            elif target.name == "input":
                refs.input_fields.add(getattr_node.attr)
        if (isinstance(target, nodes.Getattr) and isinstance(target.node, nodes.Name)
                and target.node.name == "nodes" and target.node.name not in bound):
            refs.node_fields.add((target.attr, getattr_node.attr))
    for getitem in tree.find_all(nodes.Getitem):
        key = getitem.arg
        if isinstance(key, nodes.Const) and isinstance(key.value, str):
            if key.value.startswith("_"):
                refs.private_attributes.add(key.value)
            if isinstance(getitem.node, nodes.Name) and getitem.node.name == "nodes":
                refs.node_ids.add(key.value)
    refs.unguarded_node_ids = _unguarded_reads(tree, bound)
    return refs


_DEFAULT_FILTERS = frozenset({"default", "d"})
_STEP_TESTS = frozenset({"ran", "skipped"})


def _step_read(node: nodes.Node, bound: set[str]) -> str | None:
    """The step id of ``nodes.<id>`` or ``nodes['<id>']``, else None."""
    if isinstance(node, nodes.Getattr):
        target, name = node.node, node.attr
    elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        target, name = node.node, node.arg.value
    else:
        return None
    if isinstance(target, nodes.Name) and target.name == "nodes" and target.name not in bound:
        return name
    return None


def _unguarded_reads(tree: nodes.Template, bound: set[str]) -> set[str]:
    """Steps read where a skipped step would fail the render (see TemplateRefs.unguarded_node_ids)."""
    guarded: set[int] = set()  # the read expressions under a default filter (its subject and its fallback)
    tested: set[str] = set()  # steps the template checks, so their reads sit behind a test
    for flt in tree.find_all(nodes.Filter):
        if flt.name in _DEFAULT_FILTERS:
            guarded.update(id(n) for n in flt.find_all((nodes.Getattr, nodes.Getitem)))
    for test in tree.find_all(nodes.Test):
        tested.update(s for n in (test.node, *test.node.find_all(nodes.Node)) if (s := _step_read(n, bound)))
    for attr in tree.find_all(nodes.Getattr):
        step = _step_read(attr.node, bound)
        if step and attr.attr in _STEP_TESTS:
            tested.add(step)
    for compare in tree.find_all(nodes.Compare):
        if isinstance(compare.expr, nodes.Const) and any(
                op.op in ("in", "notin") and isinstance(op.expr, nodes.Name) and op.expr.name == "nodes"
                for op in compare.ops):
            tested.add(str(compare.expr.value))
    reads = {(id(n), s) for n in tree.find_all((nodes.Getattr, nodes.Getitem)) if (s := _step_read(n, bound))}
    return {step for key, step in reads if key not in guarded and step not in tested}


def template_strings(value: Any, path: tuple[str | int, ...] = ()) -> Iterable[tuple[tuple[str | int, ...], str]]:
    """Every string inside a JSON value, with its path: strings in mappings are templates.

    In document order, with an explicit stack: no recursion, however deep the value.
    """
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            stack.extend((v, (*where, k)) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((v, (*where, i)) for i, v in reversed(list(enumerate(item))))
