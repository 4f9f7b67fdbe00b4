"""Django's middleware, without a thread hop per hook on the async stack.

Under ASGI, Django runs every ``process_request``/``process_response``/``process_view``
of a ``MiddlewareMixin`` middleware through ``sync_to_async(thread_sensitive=True)``:
about a dozen hops per request to the one sync thread that every request
shares, for hooks that only read headers and cookies and set a few more (a
sync flow call spent more CPU in those hops than in its own view). The
subclasses here call the hooks on the event loop instead, and keep the hop
where a hook may reach the database: messages that were read or added (they
may be stored in the session).
Sync requests (WSGI, Django's test client) run the parent classes' code
unchanged.

Middleware that Django's deploy checks look up by its exact dotted name
(security, sessions, CSRF, X-Frame-Options) keeps that name in
``settings.MIDDLEWARE``; the web server's handler (config/asgi_handler.py)
loads the subclasses below in their place, so ``check --deploy`` reads what
it expects and Uvicorn runs the same hooks without the hops.
"""
from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.middleware.csrf import CsrfViewMiddleware
from django.middleware.security import SecurityMiddleware
from django.utils.functional import SimpleLazyObject, empty


class _OnTheLoop:
    """Hooks called inline on the async stack; ``_blocks_after`` says when ``process_response`` may do I/O."""

    get_response: Any

    def _blocks_after(self, request: HttpRequest) -> bool:
        return False

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.process_request(request) if hasattr(self, "process_request") else None
        response = response or await self.get_response(request)
        if hasattr(self, "process_response"):
            if self._blocks_after(request):
                return await sync_to_async(self.process_response, thread_sensitive=True)(request, response)
            response = self.process_response(request, response)
        return response


class Common(_OnTheLoop, CommonMiddleware):
    pass


class Authentication(_OnTheLoop, AuthenticationMiddleware):
    pass  # sets a lazy user: the database is read where it is used


class Messages(_OnTheLoop, MessageMiddleware):
    """The message storage is made when it is first used: an API caller's request never uses it, and making it
    builds a cookie signer from settings (~3 % of a flow call's CPU in the web). Storage never made has nothing
    read or added, so there is nothing to store after."""

    def process_request(self, request: HttpRequest) -> None:
        request._messages = SimpleLazyObject(lambda: default_storage(request))  # type: ignore[attr-defined]

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if _made_storage(request) is None:
            return response
        return super().process_response(request, response)

    def _blocks_after(self, request: HttpRequest) -> bool:
        storage = _made_storage(request)
        return storage is not None and (storage.used or storage.added_new)  # they may go into the session


def _made_storage(request: HttpRequest) -> Any:
    storage = getattr(request, "_messages", None)
    if isinstance(storage, SimpleLazyObject) and storage._wrapped is empty:
        return None
    return storage


# Loaded by the web server's handler in place of Django's classes of the same job (config/asgi_handler.py).


class Security(_OnTheLoop, SecurityMiddleware):
    pass  # the HTTPS redirect and the security headers: settings and the request, no I/O


class Session(_OnTheLoop, SessionMiddleware):
    """The session is lazy (nothing is read until it is used); saving a used one goes to the database."""

    def _blocks_after(self, request: HttpRequest) -> bool:
        session = getattr(request, "session", None)
        return session is not None and (session.accessed or settings.SESSION_SAVE_EVERY_REQUEST)


class Csrf(_OnTheLoop, CsrfViewMiddleware):
    """The CSRF token lives in a cookie (``CSRF_USE_SESSIONS`` is off: checked at start), so no hook does I/O."""

    def __init__(self, get_response: Any) -> None:
        assert not settings.CSRF_USE_SESSIONS, "a CSRF token in the session is read from the database"
        super().__init__(get_response)
        if self.async_mode:  # the handler awaits an async process_view as it is, and hops for a sync one
            self.process_view = self._process_view_on_loop  # type: ignore[method-assign,assignment]

    async def _process_view_on_loop(self, request: HttpRequest, callback: Any, callback_args: Any,
                                    callback_kwargs: Any) -> HttpResponseBase | None:
        return CsrfViewMiddleware.process_view(self, request, callback, callback_args, callback_kwargs)


class XFrameOptions(_OnTheLoop, XFrameOptionsMiddleware):
    pass
