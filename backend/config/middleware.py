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

Only middleware that Django's deploy checks do not look up by its exact
dotted name is replaced (security, sessions, CSRF and X-Frame-Options are
looked up so, and keep their hops).
"""
from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.http import HttpRequest, HttpResponseBase
from django.middleware.common import CommonMiddleware


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
    def _blocks_after(self, request: HttpRequest) -> bool:
        storage = getattr(request, "_messages", None)
        return storage is not None and (storage.used or storage.added_new)  # they may go into the session


