"""The properties every fuzzed answer must keep, in one place."""
from __future__ import annotations

import json
from typing import Any


def body_of(response: Any) -> Any:
    raw = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    return json.loads(raw)


def assert_answer(response: Any, what: str) -> Any:
    """Never a 5xx; a 4xx is JSON ``{"error", "message", "problems": [{"path", "message"}]}``. Returns the body."""
    status = response.status_code
    assert status < 500, f"{what} → {status}: {response.content[:800]!r}"
    if status < 400:
        return None
    content_type = response.get("Content-Type", "") if hasattr(response, "get") else response.headers.get(
        "content-type", "")
    assert content_type.startswith("application/json"), f"{what} → {status} is not JSON: {content_type}"
    body = body_of(response)
    assert isinstance(body, dict) and {"error", "message", "problems"} <= set(body), f"{what} → {status}: {body}"
    assert isinstance(body["error"], str) and body["error"], body
    assert isinstance(body["message"], str) and body["message"], body
    assert isinstance(body["problems"], list), body
    for problem in body["problems"]:
        assert isinstance(problem, dict) and isinstance(problem.get("path"), str) \
            and isinstance(problem.get("message"), str), f"{what} → {status}: problem without a path: {problem}"
    if status == 400 and body["error"] == "invalid":
        assert body["problems"], f"{what} → 400 names no field: {body}"
    return body
