"""Reading JSON request bodies: one reader, total over any bytes a client can send.

Every door a JSON body comes through uses ``loads`` (or ``read``): the DRF
default parser (``JSONParser`` below, set in settings, so every APIView and the
session login), the async flow views (``backend/endpoints/calls.py``) and the
websocket consumer (``backend/runs/consumers.py``). Anything it cannot turn
into a value the rest of the code can store and run is refused here, with the
JSON path at fault:

* larger than ``PATCHBAY_MAX_BODY_BYTES`` → 413 (checked before decoding);
* not UTF-8 (RFC 8259 §8.1), or a lone surrogate escape (``"\\ud800"``: Python
  keeps it, PostgreSQL and every encoder refuse it later) → 400;
* ``NaN``, ``Infinity``, ``-Infinity``, or a number too large for a float
  (``1e309`` reads as infinity) → 400: they are not JSON, PostgreSQL's jsonb
  refuses them, and a budget of ``Infinity`` is no budget;
* nested deeper than ``MAX_BODY_DEPTH`` → 400 naming the field holding the
  deep value; deeper than the decoder can follow at all (Python's decoder
  recurses once per level: a few thousand ``[`` raise RecursionError, which is
  not a ValueError) → 400 for the body.

Values deep enough to read but too deep to run (``engine.limits.MAX_JSON_DEPTH``)
are refused later, by validation, naming the field.
"""
from __future__ import annotations

import json
import math
import re
from typing import IO, Any

from django.conf import settings
from rest_framework import exceptions, parsers

# Deeper than any graph, input or budget needs (the engine runs at most engine.limits.MAX_JSON_DEPTH = 100), and
# well inside what the decoder reaches from any call stack, so the limit is the same wherever a body is read.
MAX_BODY_DEPTH = 500
MAX_PROBLEMS = 20  # a hostile body can hold a million NaNs; naming the first few is enough

TOO_DEEP = "The JSON body is nested too deeply to read (arrays and objects inside each other, thousands deep)."
TOO_DEEP_PROBLEM = {"path": "", "message": "nested too deeply to read"}
NOT_FINITE = "must be a finite number (NaN, Infinity and numbers beyond ±1.8e308 are not JSON)"
SURROGATE = "contains a lone UTF-16 surrogate escape (\\ud800-\\udfff), which is not text"


class BodyProblem(ValueError):
    """A body the reader refuses: the HTTP status, a stable code, a sentence and the problems with their paths."""

    def __init__(self, status: int, code: str, message: str, problems: list[dict[str, Any]]):
        super().__init__(message)
        self.status, self.code, self.message, self.problems = status, code, message, problems


class TooLarge(BodyProblem):
    def __init__(self, size: int, limit: int):
        super().__init__(413, "too_large", f"The request body is {size} bytes or more; at most {limit} bytes are "
                                           "accepted.", [{"path": "", "message": f"at most {limit} bytes"}])


class TooDeep(BodyProblem):
    """The body nests arrays/objects deeper than the decoder can follow."""

    def __init__(self) -> None:
        super().__init__(400, "invalid", TOO_DEEP, [dict(TOO_DEEP_PROBLEM)])


def max_body_bytes() -> int:
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


# Only an escape can put a surrogate into a str: strict UTF-8 decoding refuses encoded ones.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class _Seen:
    """Decoder hooks that note a non-finite number (NaN, Infinity, 1e309) while reading it."""

    def __init__(self) -> None:
        self.not_finite = False

    def constant(self, name: str) -> float:  # NaN / Infinity / -Infinity: read, so the walk can name the path
        self.not_finite = True
        return float(name.lower().replace("infinity", "inf"))

    def float(self, literal: str) -> float:
        number = float(literal)
        if math.isinf(number):
            self.not_finite = True
        return number


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays/objects nest more than ``limit`` levels: level by level, containers only."""
    level = [value] if isinstance(value, dict | list) else []
    for _ in range(limit):
        level = [child for item in level for child in (item.values() if isinstance(item, dict) else item)
                 if isinstance(child, dict | list)]
        if not level:
            return False
    return True


def loads(body: bytes | str, *, max_bytes: int | None = None, max_depth: int = MAX_BODY_DEPTH) -> Any:
    """The JSON value of ``body``, or ``BodyProblem`` (a ValueError) saying what is wrong and where.

    ``max_bytes`` defaults to ``PATCHBAY_MAX_BODY_BYTES``; a str is measured in UTF-8 bytes.
    """
    limit = max_body_bytes() if max_bytes is None else max_bytes
    if isinstance(body, str):
        try:
            body = body.encode()
        except UnicodeEncodeError:  # a str holding lone surrogates (a websocket text frame can't, but be total)
            raise BodyProblem(400, "parse_error", "The body is not valid UTF-8 text.",
                              [{"path": "", "message": "not valid UTF-8"}]) from None
    if len(body) > limit:
        raise TooLarge(len(body), limit)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyProblem(400, "parse_error", f"The body is not valid UTF-8 (byte {exc.start}); JSON bodies are UTF-8.",
                          [{"path": "", "message": "not valid UTF-8"}]) from None
    seen = _Seen()
    try:
        value = json.loads(text, parse_constant=seen.constant, parse_float=seen.float)
    except RecursionError:
        raise TooDeep() from None
    except ValueError as exc:  # JSONDecodeError, and int() refusing a number of more than 4,300 digits
        raise BodyProblem(400, "parse_error", f"The body is not valid JSON: {exc}.",
                          [{"path": "", "message": "not valid JSON"}]) from None
    # The walk that names paths costs a Python step per value: take it only when something is there to name.
    suspect = seen.not_finite or _SURROGATE_ESCAPE.search(text) is not None or _deeper_than(value, max_depth)
    problems = value_problems(value, max_depth=max_depth) if suspect else []
    if problems:
        raise BodyProblem(400, "invalid", "The body has values that cannot be read: " + "; ".join(
            f"{p['path'] or 'body'}: {p['message']}" for p in problems[:3]) + ".", problems)
    return value


def _child(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _is_surrogate_free(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def value_problems(value: Any, *, max_depth: int = MAX_BODY_DEPTH, base: str = "") -> list[dict[str, Any]]:
    """Problems (path, message) of a decoded JSON value: non-finite numbers, lone surrogates, too deep.

    Walks with an explicit stack in document order: the value may be deeper than Python's recursion limit.
    A value too deep is named at the field holding it (two levels down), as validation names deep fields.
    """
    problems: list[dict[str, Any]] = []
    stack: list[tuple[Any, int, str, str]] = [(value, 1, base, base)]  # (item, level, path, holder's path)
    while stack and len(problems) < MAX_PROBLEMS:
        item, level, path, holder = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                problems.append({"path": path, "message": NOT_FINITE})
        elif isinstance(item, str):
            if not _is_surrogate_free(item):
                problems.append({"path": path, "message": SURROGATE})
        elif isinstance(item, dict | list):
            if level > max_depth:
                problems.append({"path": holder, "message": f"nested more than {max_depth} levels deep (arrays "
                                                            "and objects inside one another)"})
                continue
            children: list[tuple[Any, int, str, str]] = []
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                if isinstance(key, str) and not _is_surrogate_free(key):
                    problems.append({"path": path, "message": "a key " + SURROGATE})
                    break
                where = _child(path, key)
                children.append((child, level + 1, where, where if level <= 2 else holder))
            stack.extend(reversed(children))
    return problems


def read(stream: IO[bytes], *, max_bytes: int | None = None) -> bytes:
    """At most ``max_bytes`` + 1 bytes of a stream: enough to know a body is too large without holding all of it."""
    limit = max_body_bytes() if max_bytes is None else max_bytes
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise TooLarge(len(body), limit)
    return body


def _declared_too_large(parser_context: dict[str, Any] | None) -> None:
    """Refuse on the declared Content-Length before reading (the DRF request stream skips Django's own check)."""
    from .params import whole_number  # params → errors → DRF views → DRF settings → this module: import late
    request = (parser_context or {}).get("request")
    meta = getattr(request, "META", {}) or {}
    declared = whole_number(str(meta.get("CONTENT_LENGTH") or ""))
    limit = max_body_bytes()
    if declared is not None and declared > limit:
        raise TooLarge(declared, limit)


def api_error(problem: BodyProblem) -> Exception:
    """The DRF exception for a refused body: the API's error shape, with the reader's status."""
    from .errors import InvalidRequest

    error = InvalidRequest(problem.message, problem.problems, code=problem.code)
    error.status_code = problem.status
    return error


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, reading through ``loads``: every refusal is a 4xx naming the problem, not a 500.

    The body is always read as UTF-8 (RFC 8259), whatever charset the Content-Type claims.
    """

    def parse(self, stream, media_type=None, parser_context=None):  # type: ignore[no-untyped-def]
        try:
            _declared_too_large(parser_context)
            return loads(read(stream))
        except BodyProblem as problem:
            raise api_error(problem) from None


class EmptyFormParser(parsers.BaseParser):
    """A form-encoded POST with no fields (a bare ``fetch(url, {method: "POST"})``) reads as nothing; any field is a 415.

    The API takes JSON only: DRF would decode a JSONField sent as a form field with its own, unchecked
    ``json.loads``. An empty body must still parse, so the CSRF check (which reads ``request.POST``) answers 403.
    """

    media_type = "application/x-www-form-urlencoded"

    def parse(self, stream, media_type=None, parser_context=None):  # type: ignore[no-untyped-def]
        from django.http import QueryDict

        try:
            _declared_too_large(parser_context)
            body = read(stream) if stream is not None else b""
        except BodyProblem as problem:
            raise api_error(problem) from None
        if body.strip():
            raise exceptions.UnsupportedMediaType(media_type or self.media_type)
        return QueryDict()


class EmptyMultiPartParser(parsers.MultiPartParser):
    """The same for multipart (what a test client or a browser form sends with no fields): empty, or a 415."""

    def parse(self, stream, media_type=None, parser_context=None):  # type: ignore[no-untyped-def]
        try:
            _declared_too_large(parser_context)
        except BodyProblem as problem:
            raise api_error(problem) from None
        parsed = super().parse(stream, media_type, parser_context)
        if parsed.data or parsed.files:
            raise exceptions.UnsupportedMediaType(media_type or self.media_type)
        return parsed
