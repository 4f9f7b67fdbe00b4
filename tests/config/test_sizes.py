"""One input-size measure: UTF-8 bytes of compact JSON."""
from __future__ import annotations

from backend.config.sizes import input_size, input_too_large


def test_the_size_is_utf8_bytes_of_compact_json() -> None:
    assert input_size({"a": 1}) == len(b'{"a":1}')
    assert input_size({"text": "é" * 10}) == len('{"text":""}') + 20  # two bytes each, not "\u00e9" (six)
    assert input_size("\U0001F600") == 2 + 4


def test_too_large_compares_with_the_limit(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PATCHBAY_MAX_INPUT_BYTES = 1024
    assert input_too_large("x" * 1000) is None
    assert input_too_large("x" * 1023) == 1025
    assert input_too_large("x" * 10, limit=5) == 12
