"""One canonical-JSON hash: graph content hashes, model-call cache keys and idempotency hashes share it."""
from __future__ import annotations

import re
from pathlib import Path

from backend.engine.canonical import canonical_hash, canonical_json

ROOT = Path(__file__).resolve().parents[2]


def test_key_order_does_not_change_the_hash() -> None:
    a = {"b": 1, "a": {"y": [1, 2], "x": "é"}}
    b = {"a": {"x": "é", "y": [1, 2]}, "b": 1}
    assert canonical_hash(a) == canonical_hash(b)
    assert canonical_json(a) == '{"a":{"x":"é","y":[1,2]},"b":1}'


def test_different_content_gives_a_different_hash() -> None:
    assert canonical_hash({"a": [1, 2]}) != canonical_hash({"a": [2, 1]})
    assert canonical_hash({"a": 1}) != canonical_hash({"a": "1"})


def test_canonical_py_is_the_only_place_json_is_hashed() -> None:
    """Sorting keys to hash them anywhere else would be a second canonical form (migrations are frozen copies)."""
    sorted_dump = re.compile(r"sort_keys\s*=\s*True")
    offenders = [str(path.relative_to(ROOT)) for path in (ROOT / "backend").rglob("*.py")
                 if path.name != "canonical.py" and "migrations" not in path.parts
                 and sorted_dump.search(path.read_text())]
    assert offenders == []
