"""Whole numbers from text a client controls: query parameters, headers, websocket query strings, references.

``str.isdigit()`` is true for ``'²'`` and ``'٣'``; ``int()`` refuses the first and
reads the second as 3. Checking one and converting with the other was a 500
(and a websocket closed 1011). Here a whole number is ASCII digits only, at
most 18 of them, within the range asked for, so every caller gets either an
int its database column can hold or a 400 naming the field.
"""
from __future__ import annotations

import re

from .errors import InvalidRequest

MAX_BIGINT = 2**63 - 1  # PostgreSQL bigint: ids
MAX_INT = 2**31 - 1  # PostgreSQL integer: event sequence numbers, version numbers
_WHOLE = re.compile(r"[0-9]{1,19}")


def whole_number(text: object) -> int | None:
    """``text`` as a non-negative int if it is 1 to 19 ASCII digits and nothing else, otherwise None."""
    if isinstance(text, str) and _WHOLE.fullmatch(text):
        return int(text)
    return None


def parse_int(value: object, *, field: str, minimum: int = 0, maximum: int = MAX_BIGINT) -> int:
    """A whole number between ``minimum`` and ``maximum``, or a 400 (``InvalidRequest``) naming ``field``."""
    number = whole_number(value)
    if number is None or not minimum <= number <= maximum:
        raise InvalidRequest(f"{field} must be a whole number from {minimum} to {maximum}.",
                             [{"path": field, "message": f"must be a whole number from {minimum} to {maximum}"}])
    return number


def optional_int(value: object, *, field: str, default: int | None = None, minimum: int = 0,
                 maximum: int = MAX_BIGINT) -> int | None:
    """``parse_int`` for an optional parameter: absent or empty gives ``default``."""
    if value is None or value == "":
        return default
    return parse_int(value, field=field, minimum=minimum, maximum=maximum)
