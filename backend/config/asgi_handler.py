"""Django's ASGI handler as the web server runs it: no thread started per request, no thread hop per hook.

Django's ``ASGIHandler`` opens a ``ThreadSensitiveContext`` for every request: the
first ``sync_to_async(thread_sensitive=True)`` call inside it starts a new thread
(a one-thread executor per request), and each sync middleware hook, the
``request_started`` signal and ``response.close`` is such a call. A sync flow
call made eleven hops and started one thread, a third of the web process's CPU
(bench/web_cpu.py). Two changes, both here:

* **Middleware on the loop.** ``settings.MIDDLEWARE`` keeps Django's dotted
  names for security, sessions, CSRF and X-Frame-Options (``check --deploy``
  looks them up so); this handler loads the subclasses of
  config/middleware.py in their place, which call the same hooks on the
  event loop (a hop only where a used session is saved).
* **Callers' routes share one sync thread.** Requests that ``CALLER_ROUTES``
  matches (API keys: a flow call, its run and events, the OpenAI-compatible
  routes) go to async views whose ORM work runs on the endpoints' pool (endpoints/asyncdb.py);
  what is left sync for them is Django's ``request_started`` and
  ``response.close`` (connection housekeeping). They run without a per-request
  context, so those two calls go to asgiref's one long-lived sync thread instead
  of a new thread per request. Every other route (sessions, the admin, DRF's sync
  views, a flow's OpenAPI document) keeps Django's per-request context: their sync
  work never queues behind another request's, nor a caller's behind theirs.

Django's test clients build their own handlers: this one is only what
``config/asgi.py`` serves.
"""
from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.handlers.asgi import ASGIHandler

# Django's class (the name check --deploy reads) → the subclass that calls the same hooks on the loop.
ON_THE_LOOP = {
    "django.middleware.security.SecurityMiddleware": "backend.config.middleware.Security",
    "django.contrib.sessions.middleware.SessionMiddleware": "backend.config.middleware.Session",
    "django.middleware.csrf.CsrfViewMiddleware": "backend.config.middleware.Csrf",
    "django.middleware.clickjacking.XFrameOptionsMiddleware": "backend.config.middleware.XFrameOptions",
}

# Routes called with API keys whose views are async (endpoints/urls.py: flow_urlpatterns, openai_urlpatterns), with
# no session and their database work on the endpoints' pool. A sync view must not match: it would run in the one
# shared thread. A path that matches no route is answered 404 on this path too.
CALLER_ROUTES = re.compile(r"/api/v1/(flows/[^/]+/run|runs/[^/]+(/events)?)|/v1/.*", re.S)


def served_middleware(listed: list[str]) -> list[str]:
    """The middleware the web server loads for ``settings.MIDDLEWARE``: the same order, Django's four swapped."""
    return [ON_THE_LOOP.get(path, path) for path in listed]


class WebHandler(ASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        # Django's loader reads settings.MIDDLEWARE; it is swapped only while this handler is built (at import,
        # before the server accepts anything), and put back for everything else that reads it.
        listed = settings.MIDDLEWARE
        settings.MIDDLEWARE = served_middleware(listed)
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = listed

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and CALLER_ROUTES.fullmatch(scope.get("path", "")):
            await self.handle(scope, receive, send)  # no per-request thread: see the module's docstring
            return
        await super().__call__(scope, receive, send)


def web_application() -> WebHandler:
    """What ``django.core.asgi.get_asgi_application`` does, with this handler."""
    import django

    django.setup(set_prefix=False)
    return WebHandler()
