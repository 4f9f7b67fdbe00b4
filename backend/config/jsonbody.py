"""Reading JSON request bodies: one rule for bodies nested too deep to read.

Python's JSON decoder recurses once per nesting level; a body of a few
thousand ``[`` raises RecursionError, which is not a ValueError, so it escaped
every parser as a 500. Both doors a JSON body comes through use this module:
the DRF default parser (``JSONParser`` below, set in settings) and the async
flow views (``backend/endpoints/calls.py``). Values deep enough to parse but
too deep to run or store are refused later, by validation, naming the field.
"""
from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json as drf_json

TOO_DEEP = "The JSON body is nested too deeply to read (arrays and objects inside each other, thousands deep)."
TOO_DEEP_PROBLEM = {"path": "", "message": "nested too deeply to read"}


class TooDeep(ValueError):
    """The body nests arrays/objects deeper than the decoder can follow."""

    def __init__(self) -> None:
        super().__init__(TOO_DEEP)


def loads(body: bytes | str) -> Any:
    """``json.loads``, with a body too deep to read raised as ``TooDeep`` (a ValueError) instead of RecursionError."""
    try:
        return json.loads(body)
    except RecursionError:
        raise TooDeep() from None


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser; a body too deep to read is a 400 naming the problem, not a 500.

    Decodes with ``json.loads`` directly: each frame saved leaves a level more for the
    decoder (it shares Python's recursion limit), so bodies near the limit still parse
    and reach validation, which names the deep field.
    """

    def parse(self, stream, media_type=None, parser_context=None):  # type: ignore[no-untyped-def]
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.loads(stream.read().decode(encoding),
                              parse_constant=drf_json.strict_constant if self.strict else None)
        except RecursionError:
            from .errors import InvalidRequest

            raise InvalidRequest(TOO_DEEP, [TOO_DEEP_PROBLEM]) from None
        except ValueError as exc:  # as DRF's own parser answers
            raise ParseError(f"JSON parse error - {exc}") from None
