"""How big a run input is: one measure for every door a run comes through.

The REST API (``runs.services.run_create``) and published endpoints
(``endpoints.calls.parse_call``) used to measure differently (escaped
characters against UTF-8 bytes), so ``"é" × 100,000`` was accepted by one and
refused by the other. Both now ask ``input_size`` and compare it with
``PATCHBAY_MAX_INPUT_BYTES``: the UTF-8 bytes of the input as compact JSON,
close to what PostgreSQL stores and what a caller sends.
"""
from __future__ import annotations

import json
from typing import Any

from django.conf import settings


def input_size(value: Any) -> int:
    """UTF-8 bytes of ``value`` as compact JSON (no spaces, non-ASCII characters as themselves)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return len(text.encode("utf-8", "surrogatepass"))


def max_input_bytes() -> int:
    return int(settings.PATCHBAY_MAX_INPUT_BYTES)


def input_too_large(value: Any, limit: int | None = None) -> int | None:
    """The input's size if it is over the limit (``PATCHBAY_MAX_INPUT_BYTES`` by default), else None."""
    size = input_size(value)
    return size if size > (max_input_bytes() if limit is None else limit) else None
