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
  context, and those two are called on the loop itself when their receivers are
  Django's own (``LOOP_SAFE_RECEIVERS``: nothing they touch is opened on the
  loop's thread, so they have nothing to close there); any other receiver puts
  them back on asgiref's one long-lived sync thread, as Django does. No hop and
  no thread per request is left on these routes. Every other route (sessions, the admin, DRF's sync
  views, a flow's OpenAPI document) keeps Django's per-request context: their sync
  work never queues behind another request's, nor a caller's behind theirs.

Django's test clients build their own handlers: this one is only what
``config/asgi.py`` serves.
"""
from __future__ import annotations

import asyncio
import re
from typing import Any

import django
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.dispatch import Signal
from django.urls import set_script_prefix

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


# Receivers of request_started/request_finished that may run on the event loop: each acts only on what this thread
# or context opened (connections, caches, the urlconf), and a caller's route opens none of that on the loop.
LOOP_SAFE_RECEIVERS = frozenset({
    "django.db.reset_queries", "django.db.close_old_connections", "django.core.cache.close_caches",
    "django.core.handlers.base.reset_urlconf"})


# handle_on_the_loop is Django's ASGIHandler.handle of this release with two lines changed: another release
# (an upgrade) gets Django's own handler until the copy is compared with it again.
COPIED_FROM = (5, 2)


def loop_safe(signal: Signal) -> bool:
    sync_receivers, async_receivers = signal._live_receivers(ASGIHandler)
    return not async_receivers and all(
        f"{receiver.__module__}.{receiver.__qualname__}" in LOOP_SAFE_RECEIVERS for receiver in sync_receivers)


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
            # no per-request thread: see the module's docstring
            if COPIED_FROM == django.VERSION[:2] and loop_safe(signals.request_started) \
                    and loop_safe(signals.request_finished):
                await self.handle_on_the_loop(scope, receive, send)
            else:
                await self.handle(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    async def handle_on_the_loop(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """``ASGIHandler.handle`` (Django 5.2) with ``request_started`` sent and the response closed on the loop
        (a thread hop each in Django's, ~100 µs of CPU); the rest as Django does it."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            assert error_response is not None
            body_file.close()
            await self.send_response(error_response, send)
            error_response.close()
            return

        async def process_request() -> Any:
            response = await self.run_get_response(request)
            try:
                await self.send_response(response, send)
            except asyncio.CancelledError:  # the client left while it was sent
                pass
            return response

        tasks = [asyncio.create_task(self.listen_for_disconnect(receive)), asyncio.create_task(process_request())]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done():
                try:
                    task.result()
                except RequestAborted:
                    pass
                except AssertionError:
                    body_file.close()
                    raise
            else:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        try:
            response = tasks[1].result()
        except asyncio.CancelledError:
            signals.request_finished.send(sender=self.__class__)
        else:
            response.close()
        body_file.close()


def web_application() -> WebHandler:
    """What ``django.core.asgi.get_asgi_application`` does, with this handler."""
    import django

    django.setup(set_prefix=False)
    return WebHandler()
