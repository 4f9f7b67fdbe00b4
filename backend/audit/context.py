"""The request id of the request being served, for audit entries written deep inside services.

``RequestIdMiddleware`` keeps the caller's ``X-Request-Id`` (if it is a sane one: 1–200 visible ASCII
characters) in a context variable for the duration of the request; ``audit_record`` reads it. A missing or
malformed header just means "not known": the audit log never refuses a request.
"""
from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

_REQUEST_ID: ContextVar[str] = ContextVar("patchbay_request_id", default="")
_SANE = re.compile(r"\A[\x21-\x7e]{1,200}\Z")


def current_request_id() -> str:
    return _REQUEST_ID.get()


def _from(request: Any) -> str:
    value = (request.headers.get("X-Request-Id") or "").strip()
    return value if _SANE.match(value) else ""


class RequestIdMiddleware:
    sync_capable = True
    async_capable = True  # published endpoints are async views: no thread hop for them

    def __init__(self, get_response: Callable[[Any], Any]):
        self.get_response = get_response
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def __call__(self, request: Any) -> Any:
        if self._async:
            return self._acall(request)
        token = _REQUEST_ID.set(_from(request))
        try:
            return self.get_response(request)
        finally:
            _REQUEST_ID.reset(token)

    async def _acall(self, request: Any) -> Awaitable[Any]:
        token = _REQUEST_ID.set(_from(request))
        try:
            return await self.get_response(request)
        finally:
            _REQUEST_ID.reset(token)
