"""A service that is down answers 503 with a JSON body and Retry-After, never a 500 or an HTML page.

One rule, three doors an exception can come through:
- DRF views: ``backend.config.errors.api_exception_handler`` asks ``outage_response``;
- plain and async Django views (``/api/v1`` flows): ``UnavailableMiddleware.process_exception``;
- anything else (a middleware touching the session, the error page itself):
  ``server_error``, the project's ``handler500``; it also keeps /api/ answers JSON.
"""
from __future__ import annotations

import logging
import sys

import kombu.exceptions
import redis
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

log = logging.getLogger(__name__)

# PostgreSQL unreachable or restarting; Redis (cache, channel layer, heartbeats) unreachable; the broker refusing.
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError, InterfaceError, redis.ConnectionError, redis.TimeoutError, kombu.exceptions.OperationalError,
)
RETRY_AFTER_S = 5


def is_outage(exc: BaseException | None) -> bool:
    """The exception, or one it was raised from, means a service is down (not a bug)."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, OUTAGE_ERRORS):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


UNAVAILABLE_BODY = {"error": "service_unavailable", "problems": [],
                    "message": "A service Patchbay depends on (its database or its queue) is unavailable right now; "
                               f"try again in {RETRY_AFTER_S} s."}
UNAVAILABLE_HEADERS = {"Retry-After": str(RETRY_AFTER_S), "Cache-Control": "no-store"}


def unavailable_response() -> JsonResponse:
    response = JsonResponse(UNAVAILABLE_BODY, status=503)
    for name, value in UNAVAILABLE_HEADERS.items():
        response[name] = value
    return response


def note_outage(exc: BaseException | None) -> bool:
    """Whether ``exc`` is an outage (logged once here, as a warning without a traceback)."""
    if not is_outage(exc):
        return False
    log.warning("answering 503: %s: %s", type(exc).__name__, exc)
    return True


def outage_response(exc: BaseException | None) -> JsonResponse | None:
    return unavailable_response() if note_outage(exc) else None


class UnavailableMiddleware:
    """Turns an outage raised by a view (sync or async) into the 503 answer."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):  # type: ignore[no-untyped-def]
        self.get_response = get_response
        from asgiref.sync import iscoroutinefunction, markcoroutinefunction

        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):  # type: ignore[no-untyped-def]
        return self.get_response(request)  # a coroutine when the stack is async; Django awaits it

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return outage_response(exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the exception being handled decides between 503 (outage) and 500."""
    outage = outage_response(sys.exc_info()[1])
    if outage is not None:
        return outage
    if request.path.startswith("/api/"):
        return JsonResponse({"error": "server_error", "message": "Something went wrong on our side. The error "
                             "was logged.", "problems": []}, status=500)
    return defaults.server_error(request)
