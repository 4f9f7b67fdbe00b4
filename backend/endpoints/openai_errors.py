"""Refusals on the OpenAI-compatible routes, in OpenAI's error shape.

``{"error": {"message", "type", "param", "code"}}``: OpenAI clients pick their
exception class from the status code (401 ``AuthenticationError``, 404
``NotFoundError``, 429 ``RateLimitError``...) and show ``message``. A refusal
from the shared flow-call machinery (``CallRefused``, ``InvalidRequest``) keeps
its status and code and names the first problem's path as ``param``.
"""
from __future__ import annotations

from typing import Any

from django.http import JsonResponse

from backend.config.errors import InvalidRequest

from .errors import CallRefused

TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
         404: "not_found_error", 405: "invalid_request_error", 409: "conflict_error", 413: "invalid_request_error",
         422: "invalid_request_error", 429: "rate_limit_error", 502: "server_error", 503: "service_unavailable",
         504: "timeout_error"}


class OpenAIRefusal(Exception):
    def __init__(self, status: int, message: str, *, param: str | None = None, code: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": TYPES.get(self.status, "server_error"),
                          "param": self.param, "code": self.code}}

    def response(self) -> JsonResponse:
        response = JsonResponse(self.body(), status=self.status)
        for name, value in self.headers.items():
            response[name] = value
        return response


def _param(problems: list[dict[str, Any]]) -> str | None:
    path = problems[0].get("path") if problems else None
    return str(path) if path else None


def _detail(message: str, problems: list[dict[str, Any]]) -> str:
    if not problems:
        return message
    listed = "; ".join(f"{p.get('path') or 'body'}: {p.get('message')}" for p in problems[:5])
    return f"{message} ({listed})"


def from_call_refused(refused: CallRefused) -> OpenAIRefusal:
    code = "model_not_found" if refused.status == 404 else refused.code
    return OpenAIRefusal(refused.status, _detail(refused.message, refused.problems), param=_param(refused.problems),
                         code=code, headers=refused.headers)


def from_invalid_input(invalid: InvalidRequest) -> OpenAIRefusal:
    """The flow refused the input mapped from the messages: 422, naming the flow's input field."""
    problems = invalid.problems or []
    return OpenAIRefusal(422, _detail(f"The flow refused the input made from your messages: {invalid.detail}",
                                      problems), param=_param(problems), code="input_rejected")


def unknown_model(model: str, why: str = "") -> OpenAIRefusal:
    return OpenAIRefusal(404, f"The model '{model}' does not exist or this API key may not call it{why}. "
                              "GET /v1/models lists the flows this key may call.",
                         param="model", code="model_not_found")


def unavailable(message: str = "A service Patchbay depends on is unavailable right now; try again shortly."
                ) -> OpenAIRefusal:
    return OpenAIRefusal(503, message, code="service_unavailable", headers={"Retry-After": "5"})
