"""Refusals of a flow call, in the API's one error shape (see backend/config/errors.py).

The flow views are plain async Django views (they wait and stream), so they
cannot lean on DRF's exception handler: services raise ``CallRefused`` and
the view turns it into the same ``{"error", "message", "problems"}`` body.
"""
from __future__ import annotations

from typing import Any

from django.http import JsonResponse


class CallRefused(Exception):
    def __init__(self, status: int, code: str, message: str, problems: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.problems = problems or []
        self.headers = headers or {}

    def response(self) -> JsonResponse:
        return error_response(self.status, self.code, self.message, self.problems, self.headers)


def error_response(status: int, code: str, message: str, problems: list[dict[str, Any]] | None = None,
                   headers: dict[str, str] | None = None) -> JsonResponse:
    response = JsonResponse({"error": code, "message": message, "problems": problems or []}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def unauthorized(code: str, message: str) -> CallRefused:
    return CallRefused(401, code, message, headers={"WWW-Authenticate": 'Bearer realm="patchbay"'})


def not_found(slug: str) -> CallRefused:
    return CallRefused(404, "not_found", f"No published flow named '{slug}' for this API key.")
