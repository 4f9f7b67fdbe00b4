"""Sandboxed Jinja templates: rendering, and static analysis for validation.

Templates see two roots: ``input`` (the run input) and ``nodes`` (each
upstream node's ``output``). Some node types add their own names (a worker
sees ``task``). Analysis happens before a run so that a template naming an
unknown node, or reaching for ``__class__``, is refused at save time rather
than failing in production.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, nodes
from jinja2.exceptions import UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

BASE_ROOTS = frozenset({"input", "nodes"})

# "{{ expr }}" and nothing else: rendered as the native value, not its string.
_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\}\}|\{\{).)*)\}\}\s*$", re.S)


def _tojson(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


_env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
_env.filters["tojson"] = _tojson
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


@lru_cache(maxsize=4096)
def _compiled(source: str) -> Any:
    match = _SINGLE_EXPRESSION.match(source)
    if match:
        return ("expr", _env.compile_expression(match.group("expr").strip(), undefined_to_none=False))
    return ("text", _env.from_string(source))


def _run(compiled: Any, context: Mapping[str, Any], native: bool) -> Any:
    kind, obj = compiled
    try:
        if kind == "expr":
            value = obj(**context)
            if isinstance(value, Undefined):
                value._fail_with_undefined_error()
            if native:
                return value
            return value if isinstance(value, str) else _to_text(value)
        return obj.render(**context)
    except SecurityError as exc:
        raise TemplateError(f"refused by the sandbox: {exc}") from exc
    except UndefinedError as exc:
        raise TemplateError(str(exc)) from exc
    except TemplateSyntaxError as exc:
        raise TemplateError(f"syntax error: {exc.message}") from exc
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise TemplateError(f"{type(exc).__name__}: {exc}") from exc


def _to_text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return _tojson(value)
    return str(value)


def render_text(source: str, context: Mapping[str, Any]) -> str:
    """Render to a string (objects and lists become JSON)."""
    try:
        compiled = _compiled(source)
    except TemplateSyntaxError as exc:
        raise TemplateError(f"syntax error: {exc.message}") from exc
    return _run(compiled, context, native=False)


def render_value(source: Any, context: Mapping[str, Any]) -> Any:
    """Render a value: ``"{{ expr }}"`` keeps its native type; dicts and lists recurse."""
    if isinstance(source, str):
        try:
            compiled = _compiled(source)
        except TemplateSyntaxError as exc:
            raise TemplateError(f"syntax error: {exc.message}") from exc
        return _run(compiled, context, native=True)
    if isinstance(source, dict):
        return {k: render_value(v, context) for k, v in source.items()}
    if isinstance(source, list):
        return [render_value(v, context) for v in source]
    return source


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
