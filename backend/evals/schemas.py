"""JSON schemas checked offline: a registry with no retrieval, so a remote ``$ref`` is an error, not a fetch."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import jsonschema
from referencing import Registry
from referencing.exceptions import Unresolvable

_OFFLINE = Registry()  # no retrieve=: nothing is ever fetched


def schema_problem(schema: Any) -> str | None:
    """Why ``schema`` is not a usable JSON schema, or None."""
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        return f"not a valid JSON schema: {exc.message}"
    return None


@lru_cache(maxsize=64)
def _validator(schema_text: str) -> Any:
    import json

    schema = json.loads(schema_text)
    return jsonschema.validators.validator_for(schema)(schema, registry=_OFFLINE)


def validation_errors(schema: Any, value: Any) -> list[str]:
    """Every way ``value`` breaks ``schema`` (path: message); an unresolvable reference is one of them."""
    from backend.engine.canonical import canonical_json

    try:
        errors = sorted(_validator(canonical_json(schema)).iter_errors(value), key=lambda e: e.path)
        return [f"{'/'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}" for e in errors]
    except Unresolvable as exc:
        return [f"the schema refers to something not in it: {exc}"]
