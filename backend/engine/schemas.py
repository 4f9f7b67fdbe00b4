"""Every JSON schema the engine holds values to is checked and compiled here, and only here, offline.

jsonschema resolves a ``$ref`` it cannot find inside the schema by fetching the
URL (its deprecated default when no registry is given): a graph's input schema
could make the API server and the worker request any address and echo the answer
in a 400. Validators built here resolve refs inside the schema itself (and the
bundled JSON Schema metaschemas) and nothing else: a ref to anywhere else is a
problem at save time and an error at run time, never a request.

At save time ``schema_problems`` also refuses what would only fail later: a ref
that does not resolve, a ref loop that never reads deeper into the value
(``{"$ref": "#"}`` recurses until Python's stack runs out), and patterns RE2
cannot run. ``pattern`` keywords run on RE2 as every user pattern does
(``regex.py``): Python's ``re`` can backtrack for minutes on one input.
"""
from __future__ import annotations

import copy
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import jsonschema
import referencing
import referencing.jsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing.exceptions import NoSuchAnchor, NoSuchResource, PointerToNowhere, Unresolvable

from .problems import Problem, join_path
from .regex import compile_pattern, pattern_problem

__all__ = ["SchemaUnusable", "ValidationError", "compile_schema", "schema_errors", "schema_problems"]

DIALECT = referencing.jsonschema.DRAFT202012

# Keywords whose subschema applies to the same value (no input consumed): a loop through these never ends.
IN_PLACE_ONE = ("not", "if", "then", "else")
IN_PLACE_MANY = ("allOf", "anyOf", "oneOf")
IN_PLACE_MAP = ("dependentSchemas",)
# Keywords whose subschema applies to a part of the value (an item, a property, a key).
PART_ONE = ("items", "additionalProperties", "contains", "propertyNames", "unevaluatedItems",
            "unevaluatedProperties", "contentSchema")
PART_MANY = ("prefixItems",)
PART_MAP = ("properties", "patternProperties")
# Subschemas kept for reference only.
DEFS_MAP = ("$defs", "definitions")
REF_KEYWORDS = ("$ref", "$dynamicRef")


class SchemaUnusable(Exception):
    """A schema cannot be applied (a ref outside it, a loop, a value too deep for it): say so, don't crash."""


def _refuse_retrieval(uri: str) -> referencing.Resource[Any]:
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # attrs field aliases mypy does not see


# No retrieval: a ref that is not inside the schema (or a bundled metaschema) does not resolve.
REGISTRY: referencing.Registry[Any] = referencing.Registry(retrieve=_refuse_retrieval)  # type: ignore[call-arg]


# --- RE2 for the keywords that match patterns -----------------------------------------------------------------

def _re2_search(pattern: str, text: str) -> bool:
    return compile_pattern(pattern).search(text) is not None


def _pattern(validator: Any, patrn: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not _re2_search(patrn, instance):
        yield ValidationError(f"{instance!r} does not match {patrn!r}")


def _pattern_properties(validator: Any, patterns: Mapping[str, Any], instance: Any, schema: Any
                        ) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for patrn, subschema in patterns.items():
        for key, value in instance.items():
            if _re2_search(patrn, key):
                yield from validator.descend(value, subschema, path=key, schema_path=patrn)


def _additional_properties(validator: Any, additional: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    # jsonschema's own version matches patternProperties with ``re``; this is the same rule on RE2.
    if not validator.is_type(instance, "object"):
        return
    properties = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    extras = [k for k in instance if k not in properties and not any(_re2_search(p, k) for p in patterns)]
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        if patterns:
            verb = "does" if len(extras) == 1 else "do"
            listed = ", ".join(map(repr, sorted(extras)))
            yield ValidationError(f"{listed} {verb} not match any of the regexes: "
                                  + ", ".join(map(repr, sorted(patterns))))
        else:
            verb = "was" if len(extras) == 1 else "were"
            yield ValidationError(f"Additional properties are not allowed ({', '.join(map(repr, extras))} {verb} "
                                  "unexpected)")


_Validator = jsonschema.validators.extend(
    Draft202012Validator,
    {"pattern": _pattern, "patternProperties": _pattern_properties, "additionalProperties": _additional_properties},
)


def compile_schema(schema: Mapping[str, Any] | bool) -> Any:
    """A validator for ``schema`` that never fetches anything. The one constructor in the code base."""
    return _Validator(schema, registry=REGISTRY)


# Validators by the schema's JSON text: every run checks its input against its graph's input schema (a fresh copy
# of the stored one each time), every structured step its answer against its output schema. Building the
# validator costs ~10× encoding a small schema; the text is the key because equal schemas validate equally.
_VALIDATORS: OrderedDict[str, Any] = OrderedDict()
_VALIDATORS_KEPT = 256
_VALIDATORS_LOCK = threading.Lock()  # render and database threads validate too


def _validator(schema: Mapping[str, Any] | bool) -> Any:
    try:
        key = json.dumps(schema, separators=(",", ":"), allow_nan=False)  # key order kept: errors come in it
    except (TypeError, ValueError, RecursionError):  # not JSON text: build it for this call only
        return compile_schema(schema)
    with _VALIDATORS_LOCK:
        found = _VALIDATORS.get(key)
        if found is not None:
            _VALIDATORS.move_to_end(key)
            return found
    validator = compile_schema(copy.deepcopy(schema))  # its own copy: the caller's may change after
    with _VALIDATORS_LOCK:
        _VALIDATORS[key] = validator
        if len(_VALIDATORS) > _VALIDATORS_KEPT:
            _VALIDATORS.popitem(last=False)
    return validator


def schema_errors(schema: Mapping[str, Any] | bool, value: Any) -> list[ValidationError]:
    """Every way ``value`` misses ``schema``; raises SchemaUnusable when the schema cannot be applied.

    Schemas saved since refs were checked at save time do not raise; graphs saved before may.
    """
    try:
        return list(_validator(schema).iter_errors(value))
    except Unresolvable as exc:  # jsonschema wraps it, keeping this base class
        raise SchemaUnusable(f"the schema has a $ref that does not resolve inside it ({_ref_of(exc)}); "
                             "refs are never fetched") from None
    except RecursionError:
        raise SchemaUnusable("the schema recurses without end, or too deeply for this value") from None


def _ref_of(exc: Unresolvable) -> str:
    ref = getattr(exc, "ref", None) or getattr(getattr(exc, "_wrapped", None), "ref", None)
    return repr(ref) if ref is not None else "unknown ref"


# --- save-time checks --------------------------------------------------------------------------------------------

def schema_problems(schema: Any, base: str, node_id: str | None = None) -> list[Problem]:
    """Why ``schema`` cannot be used as a JSON schema (2020-12), each problem with its path; [] when it can."""
    if not isinstance(schema, (dict, bool)):
        return [Problem(base, "must be a JSON schema (an object)", node_id)]
    meta = best_match(compile_schema(Draft202012Validator.META_SCHEMA).iter_errors(schema))
    if meta is not None:
        return [Problem(join_path(base, *meta.absolute_path), f"not a valid JSON schema: {meta.message}", node_id)]
    if isinstance(schema, bool):
        return []
    return _SchemaWalk(schema, base, node_id).problems()


class _SchemaWalk:
    """One pass over every subschema: refs resolve locally, patterns run on RE2, no loop that reads nothing."""

    def __init__(self, schema: Mapping[str, Any], base: str, node_id: str | None):
        self.schema, self.base, self.node_id = schema, base, node_id
        self.root_resolver = REGISTRY.combine(_bundled()).resolver_with_root(DIALECT.create_resource(schema))
        self.paths: dict[int, tuple[str | int, ...]] = {}  # id(subschema) → where it sits
        self.in_place: dict[int, list[tuple[int, tuple[str | int, ...]]]] = {}  # → (target, path of the keyword)
        self.found: list[Problem] = []

    def problems(self) -> list[Problem]:
        self._walk()
        self._loops()
        return self.found

    def _problem(self, path: tuple[str | int, ...], message: str) -> None:
        self.found.append(Problem(join_path(self.base, *path), message, self.node_id))

    def _walk(self) -> None:
        # An explicit stack: a schema may nest as deep as the document allows.
        stack: list[tuple[Any, tuple[str | int, ...], Any]] = [(self.schema, (), self.root_resolver)]
        while stack:
            sub, path, resolver = stack.pop()
            if not isinstance(sub, dict):
                continue  # true / false: nothing inside
            self.paths.setdefault(id(sub), path)
            if path and isinstance(sub.get("$id"), str):
                resolver = resolver.in_subresource(DIALECT.create_resource(sub))
            edges = self.in_place.setdefault(id(sub), [])
            for keyword in REF_KEYWORDS:
                if isinstance(sub.get(keyword), str):
                    target = self._resolve(sub[keyword], (*path, keyword), resolver)
                    if target is not None:
                        edges.append((id(target), (*path, keyword)))
            if isinstance(sub.get("pattern"), str):
                self._check_pattern(sub["pattern"], (*path, "pattern"))
            for key in sub.get("patternProperties") or {}:
                self._check_pattern(key, (*path, "patternProperties", key))
            for keyword, child, child_path in _children(sub, path):
                if keyword in IN_PLACE_ONE or keyword in IN_PLACE_MANY or keyword in IN_PLACE_MAP:
                    if isinstance(child, dict):
                        edges.append((id(child), child_path))
                stack.append((child, child_path, resolver))

    def _resolve(self, ref: str, path: tuple[str | int, ...], resolver: Any) -> Any:
        try:
            return resolver.lookup(ref).contents
        except (PointerToNowhere, NoSuchAnchor):
            self._problem(path, f"'{ref}' does not resolve inside this schema")
        except Unresolvable:
            self._problem(path, f"'{ref}' points outside this schema: refs resolve only inside it (to $defs); "
                                "nothing is fetched")
        return None

    def _check_pattern(self, pattern: str, path: tuple[str | int, ...]) -> None:
        problem = pattern_problem(pattern)
        if problem:
            self._problem(path, problem)

    def _loops(self) -> None:
        """A loop of refs and allOf/anyOf/oneOf/not/if that never moves into a part of the value recurses forever."""
        state: dict[int, int] = {}  # 1 = on the current path, 2 = done
        for start in list(self.in_place):
            if start in state:
                continue
            state[start] = 1
            stack: list[tuple[int, Iterator[tuple[int, tuple[str | int, ...]]]]] = [
                (start, iter(self.in_place[start]))]
            while stack:
                node, edges = stack[-1]
                step = next(edges, None)
                if step is None:
                    state[node] = 2
                    stack.pop()
                    continue
                target, keyword_path = step
                if target not in self.in_place:
                    continue  # a bundled metaschema: not ours to check
                if state.get(target) == 1:
                    where = join_path(self.base, *self.paths.get(target, ())) or "the schema's root"
                    self._problem(keyword_path, f"this loops back to {where} without moving into a part of the "
                                                "value: it would recurse forever")
                elif target not in state:
                    state[target] = 1
                    stack.append((target, iter(self.in_place[target])))


def _children(sub: Mapping[str, Any], path: tuple[str | int, ...]
              ) -> Iterable[tuple[str, Any, tuple[str | int, ...]]]:
    for keyword in (*IN_PLACE_ONE, *PART_ONE):
        if keyword in sub:
            yield keyword, sub[keyword], (*path, keyword)
    for keyword in (*IN_PLACE_MANY, *PART_MANY):
        if isinstance(sub.get(keyword), list):
            for i, child in enumerate(sub[keyword]):
                yield keyword, child, (*path, keyword, i)
    for keyword in (*IN_PLACE_MAP, *PART_MAP, *DEFS_MAP):
        if isinstance(sub.get(keyword), dict):
            for name, child in sub[keyword].items():
                yield keyword, child, (*path, keyword, name)


def _bundled() -> referencing.Registry[Any]:
    from jsonschema_specifications import REGISTRY as METASCHEMAS

    return METASCHEMAS
