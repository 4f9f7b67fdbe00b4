"""One canonical form of a JSON value, and its hash: equal content gives equal text, whatever the key order.

Used for every content address in Patchbay: graph versions' ``content_hash``, the model-call cache key and
the idempotency hash of endpoint calls. Django-free so the engine can use it too.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 as is; values JSON cannot hold (e.g. a datetime) as their ``str``."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def canonical_hash(value: Any) -> str:
    """The SHA-256 (hex) of ``canonical_json(value)``."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()
