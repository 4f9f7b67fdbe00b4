"""One error shape for the whole API: {"error", "message", "problems": [{path, message}]}.

Clients (the canvas, scripts) read ``problems`` to pin each issue to its field.
"""
from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from .unavailable import UNAVAILABLE_BODY, UNAVAILABLE_HEADERS, note_outage

log = logging.getLogger(__name__)


class InvalidRequest(exceptions.APIException):
    """A 400 with a list of problems, each with the JSON path at fault."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(self, message: str, problems: list[dict[str, Any]], code: str = "invalid"):
        super().__init__(message)
        self.problems = problems
        self.error_code = code


def _flatten(detail: Any, path: str = "") -> list[dict[str, Any]]:
    if isinstance(detail, dict):
        out: list[dict[str, Any]] = []
        for key, value in detail.items():
            sub = path if key == "non_field_errors" else (f"{path}.{key}" if path else str(key))
            out += _flatten(value, sub)
        return out
    if isinstance(detail, list):
        if all(isinstance(d, str) for d in detail):
            return [{"path": path, "message": str(d)} for d in detail]
        out = []
        for i, value in enumerate(detail):
            out += _flatten(value, f"{path}[{i}]")
        return out
    return [{"path": path, "message": str(detail)}]


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if note_outage(exc):  # a service is down: 503 with Retry-After, not a bug's 500
        return Response(UNAVAILABLE_BODY, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers=UNAVAILABLE_HEADERS)
    if isinstance(exc, InvalidRequest):
        return Response({"error": exc.error_code, "message": str(exc.detail), "problems": exc.problems},
                        status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        return Response({"error": "too_large", "message": f"The request body is larger than "
                         f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.", "problems": []},
                        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    response = exception_handler(exc, context)
    if response is None:
        # A bug: log it, answer in the API's shape, never leak a traceback.
        log.exception("unhandled error in %s", context.get("view"))
        return Response({"error": "server_error", "message": "Something went wrong on our side; "
                         "nothing was changed. The error was logged."}, status=500)
    if isinstance(exc, exceptions.ValidationError):
        problems = _flatten(exc.detail)
        response.data = {"error": "invalid", "message": "; ".join(
            f"{p['path']}: {p['message']}" if p["path"] else p["message"] for p in problems), "problems": problems}
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        response.data = {"error": getattr(exc, "default_code", "error"), "message": str(detail), "problems": []}
    return response


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: a path under /api/ that matches no route (or a route's converter, e.g. a slug with ``é``)
    answers in the API's shape; other paths keep Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"error": "not_found", "message": f"No API route matches {request.path}.",
                             "problems": [{"path": "", "message": "no such route"}]}, status=404)
    return defaults.page_not_found(request, exception)
