"""The Jinja sandbox that templates render in, with every way to burn CPU or memory checked as it runs.

Jinja's ImmutableSandboxedEnvironment refuses private attributes and mutation;
this adds work limits: operators that grow a value (``'a'*10**9``), filters
that print or pad (``center(10**9)``), format widths, loops and ``~`` (wrapped
in guard filters at compile time, since the sandbox cannot intercept them) all
pass through the render's RenderGuard, which counts steps and checks the
deadline. The limits themselves live in template_limits.py.
"""
from __future__ import annotations

import inspect
import json
from contextvars import ContextVar
from functools import wraps
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedFormatter
from jinja2.utils import _PassArg
from jinja2.visitor import NodeTransformer

from .template_limits import (
    MAX_INT_BITS,
    MAX_ITEMS,
    MAX_TEXT_CHARS,
    MAX_WRAP_CHARS,
    RenderGuard,
    TemplateLimitError,
    check_count,
    check_format_spec,
    check_printf_format,
)


def tojson(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


# The guard of the render running in this thread (each render sets its own; see _guarded).
render_guard_var: ContextVar[RenderGuard | None] = ContextVar("patchbay_render_guard", default=None)


def current_guard() -> RenderGuard:
    guard = render_guard_var.get()
    if guard is None:  # a template evaluated outside render_*: still bounded
        guard = RenderGuard()
        render_guard_var.set(guard)
    return guard


class _GuardedFormatter(SandboxedFormatter):
    def format_field(self, value: Any, format_spec: str) -> Any:
        check_format_spec(format_spec)
        current_guard().check_weight(value, "a formatted value")
        return super().format_field(value, format_spec)


class _LimitedEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox, with every operator that can grow a value checked before it runs."""

    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        guard = current_guard()
        guard.tick()
        _check_binop(guard, operator, left, right)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        guard = current_guard()
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
            current_guard().tick()
            if is_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one mapping")
                return type(f_self)(formatter.vformat(f_self, (), args[0]))
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
    guard = current_guard()
    for item in iterable:
        guard.tick()
        yield item


def _guarded_concat(parts: tuple[Any, ...]) -> str:
    guard = current_guard()
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
    takessandbox_env_first = _PassArg.from_obj(func) is not None

    @wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        guard = current_guard()
        guard.tick()
        if name in _PRINTING_FILTERS:
            value = args[1 if takessandbox_env_first else 0] if len(args) > takessandbox_env_first else None
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
    current_guard().check_weight(value, "a printed value")
    return value


# optimized=False: Jinja would otherwise fold constants ('x'|center(10**9)) at compile time, outside any guard.
sandbox_env = _LimitedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True,
                           optimized=False, finalize=_finalize)
sandbox_env.filters["tojson"] = tojson
sandbox_env.filters = {name: _guarded_filter(name, f) for name, f in sandbox_env.filters.items()}
sandbox_env.filters[_LOOP_FILTER] = _guarded_loop
sandbox_env.filters[_CONCAT_FILTER] = _guarded_concat
# Built-in globals such as range/cycler/joiner are not needed by prompts.
sandbox_env.globals.clear()
