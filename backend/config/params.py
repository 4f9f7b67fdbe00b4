"""Numbers, dates and search terms from text a client controls: query parameters, headers, websocket query
strings, references.

``str.isdigit()`` is true for ``'²'`` and ``'٣'``; ``int()`` refuses the first and
reads the second as 3. Checking one and converting with the other was a 500
(and a websocket closed 1011). Here a whole number is ASCII digits only, at
most 18 of them, within the range asked for, so every caller gets either an
int its database column can hold or a 400 naming the field.
"""
from __future__ import annotations

import datetime as dt
import re

from django.utils.dateparse import parse_date, parse_datetime

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


_DECIMAL = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,15})?")
MAX_TEXT_PARAM = 500  # a search term longer than this is not a search


def parse_amount(value: object, *, field: str) -> float:
    """A non-negative decimal number written in ASCII (``0.25``, ``12``), or a 400 naming ``field``.

    No exponents, signs, ``nan`` or ``inf``: what a person types into a filter, nothing ``float()`` alone
    would let through."""
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return float(value)
    raise InvalidRequest(f"{field} must be a non-negative number such as 0.25.",
                         [{"path": field, "message": "must be a non-negative number such as 0.25"}])


def parse_when(value: object, *, field: str) -> dt.datetime:
    """An ISO 8601 date (``2026-11-01``, its midnight UTC) or date-time (without an offset: UTC), or a 400."""
    text = value if isinstance(value, str) else ""
    when: dt.datetime | None = None
    try:
        when = parse_datetime(text)
        if when is None and (day := parse_date(text)) is not None:
            when = dt.datetime.combine(day, dt.time())
        if when is not None:  # in UTC, as PostgreSQL compares it (year 9999 at -14:00 is past the last year)
            when = (when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    except (ValueError, OverflowError):  # well formed but impossible: 2026-02-30, hour 25
        when = None
    if when is None:
        raise InvalidRequest(f"{field} must be an ISO 8601 date or date-time.",
                             [{"path": field, "message": "must be an ISO 8601 date (2026-11-01) or date-time "
                                                         "(2026-11-01T09:30:00Z)"}])
    return when


def parse_text(value: object, *, field: str, max_length: int = MAX_TEXT_PARAM) -> str:
    """A search term PostgreSQL can compare: at most ``max_length`` characters, no NUL, or a 400."""
    text = value if isinstance(value, str) else ""
    if "\x00" in text or len(text) > max_length:
        raise InvalidRequest(f"{field} must be text of at most {max_length} characters without NUL.",
                             [{"path": field, "message": f"at most {max_length} characters, no NUL"}])
    return text
