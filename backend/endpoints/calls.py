"""The body and headers of a flow call, checked before anything is stored.

``POST /api/v1/flows/<slug>/run`` takes ``{"input", "mode"?, "budget"?,
"callback_url"?, "timeout_s"?, "fresh"?}``. Every problem is reported at once with its
path; sizes are checked first so an oversized request costs no parsing.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from backend.config import jsonbody
from backend.config.sizes import input_size
from backend.config.storable import NUL_PROBLEM, nul_path
from backend.engine.canonical import canonical_hash

from .errors import CallRefused

MODES = ("sync", "async", "stream")
FIELDS = {"input", "mode", "budget", "callback_url", "timeout_s", "fresh"}
MAX_HEADER_ID = 200
_PRINTABLE = re.compile(r"^[\x21-\x7e]+$")  # visible ASCII, no spaces


@dataclass(frozen=True)
class Call:
    input: Any
    mode: str
    budget: dict[str, Any] | None
    callback_url: str | None
    timeout_s: float | None
    request_hash: str  # what an Idempotency-Key retry must match
    fresh: bool = False  # skip cache reads: every model call is made (its answer is still cached)


def too_large(what: str, size: int, limit: int, path: str = "") -> CallRefused:
    return CallRefused(413, "too_large", f"The {what} is {size} bytes; at most {limit} bytes are accepted.",
                       [{"path": path, "message": f"at most {limit} bytes"}] if path else [])


def _json(body: bytes) -> Any:
    try:
        return jsonbody.loads(body)
    except jsonbody.BodyProblem as problem:  # too large, not UTF-8, not JSON, not finite, too deep: with the path
        # Published callers have always had "invalid" for every 400 (the REST API says "parse_error" for unreadable).
        code = problem.code if problem.status != 400 else "invalid"
        raise CallRefused(problem.status, code, problem.message, problem.problems) from None


def request_hash(slug: str, doc: dict[str, Any]) -> str:
    return canonical_hash({"flow": slug, "body": doc})


def parse_call(body: bytes, *, slug: str, max_input_bytes: int, max_timeout_s: float) -> Call:
    doc = _json(body)
    if not isinstance(doc, dict):
        raise CallRefused(400, "invalid", "The body must be a JSON object like {\"input\": {...}}.",
                          [{"path": "", "message": "must be a JSON object"}])
    problems = [{"path": name, "message": "unknown field"} for name in sorted(set(doc) - FIELDS)]
    if "input" not in doc:
        problems.append({"path": "input", "message": "input is required"})
    else:
        size = input_size(doc["input"])
        if size > max_input_bytes:
            raise too_large("input", size, max_input_bytes, "input")
        nul = nul_path(doc["input"], "input")
        if nul is not None:
            problems.append({"path": nul, "message": NUL_PROBLEM})
    mode = doc.get("mode", "sync")
    if mode not in MODES:
        problems.append({"path": "mode", "message": f"must be one of {', '.join(MODES)}"})
    budget = doc.get("budget")
    if budget is not None and not isinstance(budget, dict):
        problems.append({"path": "budget", "message": "must be an object like {\"max_cost_usd\": 0.01}"})
    callback_url = doc.get("callback_url")
    if callback_url is not None and not isinstance(callback_url, str):
        problems.append({"path": "callback_url", "message": "must be a URL string"})
    timeout_s = doc.get("timeout_s")
    if timeout_s is not None and (isinstance(timeout_s, bool) or not isinstance(timeout_s, int | float)
                                  or not 0 < timeout_s <= max_timeout_s):
        problems.append({"path": "timeout_s", "message": f"must be a number of seconds, above 0 and at most "
                                                         f"{max_timeout_s:g}"})
    fresh = doc.get("fresh", False)
    if not isinstance(fresh, bool):
        problems.append({"path": "fresh", "message": "must be true or false"})
    if problems:
        raise CallRefused(400, "invalid", "The call has problems; no run was started.", problems)
    return Call(input=doc["input"], mode=mode, budget=budget, callback_url=callback_url,
                timeout_s=float(timeout_s) if timeout_s is not None else None,
                request_hash=request_hash(slug, doc), fresh=fresh)


def header_id(name: str, value: str | None) -> str | None:
    """A caller-supplied id header (X-Request-Id, Idempotency-Key): visible ASCII, at most 200 characters."""
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > MAX_HEADER_ID or not _PRINTABLE.match(value):
        raise CallRefused(400, "invalid", f"The {name} header must be 1 to {MAX_HEADER_ID} visible ASCII "
                          "characters.", [{"path": f"headers.{name}", "message": "1 to 200 visible ASCII characters"}])
    return value


def new_request_id() -> str:
    return "req_" + secrets.token_hex(12)
