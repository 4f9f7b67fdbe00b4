"""Sandboxed Jinja templates: rendering, and static analysis for validation.

Templates see two roots: ``input`` (the run input) and ``nodes`` (each
upstream node's ``output``). Some node types add their own names (a worker
sees ``task``). Analysis happens before a run so that a template naming an
unknown node, or reaching for ``__class__``, is refused at save time rather
than failing in production.
"""
from __future__ import annotations

import asyncio
import inspect
import json
import re
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache, wraps
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, nodes
from jinja2.exceptions import UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedFormatter, SecurityError
from jinja2.utils import _PassArg
from jinja2.visitor import NodeTransformer

from .template_limits import (
    MAX_INT_BITS,
    MAX_ITEMS,
    MAX_TEXT_CHARS,
    MAX_WRAP_CHARS,
    RenderGuard,
    RenderTimeout,
    TemplateLimitError,
    check_count,
    check_format_spec,
    check_printf_format,
)

BASE_ROOTS = frozenset({"input", "nodes"})

# "{{ expr }}" and nothing else: rendered as the native value, not its string.
_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\}\}|\{\{).)*)\}\}\s*$", re.S)


def _tojson(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


# The guard of the render running in this thread (each render sets its own; see _guarded).
_current_guard: ContextVar[RenderGuard | None] = ContextVar("patchbay_render_guard", default=None)


def _guard() -> RenderGuard:
    guard = _current_guard.get()
    if guard is None:  # a template evaluated outside render_*: still bounded
        guard = RenderGuard()
        _current_guard.set(guard)
    return guard


class _GuardedFormatter(SandboxedFormatter):
    def format_field(self, value: Any, format_spec: str) -> Any:
        check_format_spec(format_spec)
        _guard().check_weight(value, "a formatted value")
        return super().format_field(value, format_spec)


class _LimitedEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox, with every operator that can grow a value checked before it runs."""

    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        guard = _guard()
        guard.tick()
        _check_binop(guard, operator, left, right)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        guard = _guard()
        guard.tick()
        _check_method_call(guard, __obj, args)
        result = super().call(__context, __obj, *args, **kwargs)
        if isinstance(result, str) and len(result) > MAX_TEXT_CHARS:
            raise TemplateLimitError(f"a call returned more than {MAX_TEXT_CHARS:,} characters")
        return result

    def wrap_str_format(self, value: Any) -> Any:
        # The sandbox's own wrapper, with a formatter that refuses huge widths ('{:>999999999}').
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        f_self, is_map = value.__self__, value.__name__ == "format_map"
        formatter = _GuardedFormatter(self)

        def checked_format(*args: Any, **kwargs: Any) -> str:
            _guard().tick()
            if is_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one mapping")
                args, kwargs = (), args[0]
            return type(f_self)(formatter.vformat(f_self, args, kwargs))

        return checked_format

    def _generate(self, source: nodes.Template, name: str | None, filename: str | None,
                  defer_init: bool = False) -> str:
        # Jinja's documented hook between parsing and code generation: route loops and "~" through guards.
        return super()._generate(_AddGuards().visit(source), name, filename, defer_init)


class _AddGuards(NodeTransformer):
    """Loops and ``~`` are not operators the sandbox intercepts: wrap them in guard filters."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, _LOOP_FILTER, [], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return nodes.Filter(nodes.Tuple(node.nodes, "load", lineno=node.lineno), _CONCAT_FILTER, [], [], None, None,
                            lineno=node.lineno)


_LOOP_FILTER = "_patchbay_loop"
_CONCAT_FILTER = "_patchbay_concat"


def _guarded_loop(iterable: Any) -> Any:
    guard = _guard()
    for item in iterable:
        guard.tick()
        yield item


def _guarded_concat(parts: tuple[Any, ...]) -> str:
    guard = _guard()
    total = sum(guard.weight(p) for p in parts)
    if total > MAX_TEXT_CHARS:
        raise TemplateLimitError(f"'~' would build more than {MAX_TEXT_CHARS:,} characters")
    return "".join(str(p) for p in parts)


def _check_binop(guard: RenderGuard, operator: str, left: Any, right: Any) -> None:
    def is_int(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    if operator == "**":
        if is_int(left) and is_int(right) and right > 0 and abs(left) > 1:
            if abs(left).bit_length() * right > MAX_INT_BITS:
                raise TemplateLimitError(f"{left} ** {right} is larger than {MAX_INT_BITS} bits")
        return
    if operator == "*":
        if is_int(left) and is_int(right):
            if left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise TemplateLimitError(f"a product larger than {MAX_INT_BITS} bits")
            return
        seq, times = (left, right) if is_int(right) else (right, left)
        if is_int(times) and isinstance(seq, (str, list, tuple)) and times > 0:
            limit = MAX_TEXT_CHARS if isinstance(seq, str) else MAX_ITEMS
            if len(seq) * times > limit:
                raise TemplateLimitError(f"repeating a {type(seq).__name__} {times:,} times makes more than "
                                         f"{limit:,} {'characters' if isinstance(seq, str) else 'items'}")
            if not isinstance(seq, str) and guard.weight(seq) * times > MAX_TEXT_CHARS:
                raise TemplateLimitError(f"repeating a list {times:,} times makes more than "
                                         f"{MAX_TEXT_CHARS:,} characters of data")
        return
    if operator == "+" and isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
        if guard.weight(left) + guard.weight(right) > MAX_TEXT_CHARS:
            raise TemplateLimitError(f"'+' would build more than {MAX_TEXT_CHARS:,} characters")
        return
    if operator == "%" and isinstance(left, str):
        check_printf_format(left)
        guard.check_weight(right, "a value formatted with '%'")


# str methods whose size depends on an argument, not on the string alone.
_WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill"})


def _check_method_call(guard: RenderGuard, obj: Any, args: tuple[Any, ...]) -> None:
    owner = getattr(obj, "__self__", None)
    if not isinstance(owner, str) or not args:
        return
    name = getattr(obj, "__name__", "")
    if name in _WIDTH_METHODS:
        check_count(args[0], f"a width for {name}()")
    elif name == "expandtabs":
        check_count(owner.count("\t") * (args[0] if isinstance(args[0], int) else 8), "expandtabs()' output")
    elif name == "replace" and len(args) >= 2:
        _check_replace(owner, args[0], args[1])
    elif name == "join":
        _check_join(guard, owner, args[0])


def _check_replace(s: Any, old: Any, new: Any) -> None:
    if isinstance(s, str) and isinstance(old, str) and isinstance(new, str):
        hits = len(s) + 1 if old == "" else s.count(old)
        check_count(len(s) + hits * (len(new) - len(old)), "replace()'s output")


def _check_join(guard: RenderGuard, sep: Any, items: Any) -> None:
    if isinstance(items, (list, tuple)):
        total = sum(guard.weight(i) for i in items) + len(str(sep)) * len(items)
        check_count(total, "join()'s output")


def _filter_checks(name: str, bound: inspect.BoundArguments, guard: RenderGuard) -> None:
    """Arguments that make a filter's output (or work) grow without the input growing."""
    a = bound.arguments
    if name == "center":
        check_count(a.get("width"), "center's width")
    elif name == "indent":
        width = a.get("width", 4)
        lines = str(a.get("s", "")).count("\n") + 1
        check_count((len(width) if isinstance(width, str) else width) * lines, "indent's added text")
    elif name == "wordwrap":
        check_count(len(str(a.get("s", ""))), "the text given to wordwrap", MAX_WRAP_CHARS)
        check_count(len(str(a.get("wrapstring") or "")) * MAX_WRAP_CHARS, "wordwrap's wrapstring", MAX_TEXT_CHARS * 10)
    elif name == "format":
        check_printf_format(str(a.get("value", "")))
        guard.check_weight(a.get("args"), "the values given to format")
    elif name in ("batch", "slice"):
        check_count(a.get("linecount", a.get("slices")), f"{name}'s count", MAX_ITEMS)
    elif name == "replace":
        _check_replace(a.get("s"), a.get("old"), a.get("new"))
    elif name == "join":
        value = a.get("value")
        if isinstance(value, (list, tuple)):
            _check_join(guard, a.get("d", ""), value)
    elif name == "sum" and not isinstance(a.get("start", 0), (int, float)):
        raise TemplateLimitError("sum adds numbers only (start must be a number)")
    elif name == "truncate":
        check_count(a.get("length"), "truncate's length")


# Filters that print their whole input: its size is checked before the C code runs.
_PRINTING_FILTERS = frozenset({"string", "tojson", "pprint", "center", "indent", "urlencode", "xmlattr",
                               "e", "escape", "forceescape", "striptags", "urlize", "wordcount", "trim"})
_CHECKED_FILTERS = frozenset({"center", "indent", "wordwrap", "format", "batch", "slice", "replace", "join",
                              "sum", "truncate"})


def _guarded_filter(name: str, func: Any) -> Any:
    signature = inspect.signature(func) if name in _CHECKED_FILTERS else None
    takes_env_first = _PassArg.from_obj(func) is not None

    @wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        guard = _guard()
        guard.tick()
        if name in _PRINTING_FILTERS:
            value = args[1 if takes_env_first else 0] if len(args) > takes_env_first else None
            guard.check_weight(value, f"the value given to {name}")
        if signature is not None:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError:
                bound = None  # the filter itself reports the bad call
            if bound is not None:
                _filter_checks(name, bound, guard)
        result = func(*args, **kwargs)
        if isinstance(result, str) and len(result) > MAX_TEXT_CHARS:
            raise TemplateLimitError(f"{name} returned more than {MAX_TEXT_CHARS:,} characters")
        return result

    return guarded


def _finalize(value: Any) -> Any:
    # Every "{{ value }}" in a text template passes here before it becomes a string.
    _guard().check_weight(value, "a printed value")
    return value


# optimized=False: Jinja would otherwise fold constants ('x'|center(10**9)) at compile time, outside any guard.
_env = _LimitedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True,
                           optimized=False, finalize=_finalize)
_env.filters["tojson"] = _tojson
_env.filters = {name: _guarded_filter(name, f) for name, f in _env.filters.items()}
_env.filters[_LOOP_FILTER] = _guarded_loop
_env.filters[_CONCAT_FILTER] = _guarded_concat
# Built-in globals such as range/cycler/joiner are not needed by prompts.
_env.globals.clear()


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
        plain = _is_plain(_env.parse("{{ " + expr + " }}"))
        return _Compiled("expr", _env.compile_expression(expr, undefined_to_none=False), plain)
    return _Compiled("text", _env.from_string(source), _is_plain(_env.parse(source)))


def _compile(source: str) -> _Compiled:
    try:
        return _compiled(source)
    except TemplateSyntaxError as exc:
        raise TemplateError(f"syntax error: {exc.message}") from exc


def _render(compiled: _Compiled, context: Mapping[str, Any], native: bool) -> Any:
    if compiled.kind == "expr":
        value = compiled.obj(**context)
        if isinstance(value, Undefined):
            value._fail_with_undefined_error()
        if native:
            return value
        if isinstance(value, str):
            return value
        _guard().check_weight(value, "the rendered value")
        return _to_text(value)
    # Streamed, so the output's size is checked as it grows rather than once it is all built.
    guard, size, chunks = _guard(), 0, []
    for chunk in compiled.obj.generate(**context):
        size += len(chunk)
        if size > MAX_TEXT_CHARS:
            raise TemplateLimitError(f"the rendered text is longer than {MAX_TEXT_CHARS:,} characters")
        chunks.append(chunk)
        guard.tick()
    return "".join(chunks)


def _guarded(guard: RenderGuard, fn: Callable[[], Any]) -> Any:
    """Run ``fn`` with ``guard`` counting its work, and turn its failures into TemplateError."""
    token = _current_guard.set(guard)
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
        _current_guard.reset(token)


def _to_text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return _tojson(value)
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
    try:
        tree = _env.parse(source)
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
    return refs
