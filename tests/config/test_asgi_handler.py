"""The web server's Django handler (config/asgi_handler.py): Django's security middleware on the loop, and the
callers' routes served without a thread per request — with every header, redirect and cookie as before.

These requests go through the handler Uvicorn serves (``config/asgi.py``), not Django's test clients, which
build handlers of their own.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import asgiref.sync
import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.test import override_settings

from backend.config import middleware
from backend.config.asgi_handler import CALLER_ROUTES, ON_THE_LOOP, WebHandler, served_middleware


def _get(app: Any, path: str, method: str = "GET", headers: list[tuple[bytes, bytes]] | None = None,
         scheme: str = "http", executors: list[object] | None = None, body: bytes = b"", finish: bool = False,
         ) -> tuple[int, dict[str, list[str]]]:
    """One request through ``app``; ``executors`` (thread_executors) keeps only those made while it is served;
    ``finish``: also wait for the app to return (what it does after the answer is sent)."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": scheme,
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"testserver"), *(headers or []),
                         *([(b"content-length", str(len(body)).encode())] if body else [])],
             "client": ("127.0.0.1", 5000),
             "server": ("testserver", 80)}

    async def call() -> tuple[int, dict[str, list[str]]]:
        if executors is not None:
            executors.clear()  # async_to_sync made one to run this loop
        communicator = ApplicationCommunicator(app, scope)
        await communicator.send_input({"type": "http.request", "body": body, "more_body": False})
        start = await communicator.receive_output(10)
        while (await communicator.receive_output(10)).get("more_body"):
            pass
        if finish:
            await communicator.send_input({"type": "http.disconnect"})
            await communicator.wait(10)
        found: dict[str, list[str]] = {}
        for name, value in start["headers"]:
            found.setdefault(name.decode().lower(), []).append(value.decode())
        return start["status"], found

    return async_to_sync(call)()


@pytest.fixture
def thread_executors(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Each one-thread executor asgiref makes for a request's sync work (a new thread per request)."""
    made: list[object] = []
    real = asgiref.sync.ThreadPoolExecutor

    class Counted(real):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            made.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(asgiref.sync, "ThreadPoolExecutor", Counted)
    yield made


def test_settings_keep_djangos_names_and_the_server_loads_the_subclasses_in_their_place() -> None:
    listed = list(settings.MIDDLEWARE)
    served = served_middleware(listed)
    assert len(served) == len(listed)
    for django_path, ours in ON_THE_LOOP.items():
        assert django_path in listed, "check --deploy looks for this exact name"
        assert served.index(ours) == listed.index(django_path), "same place in the chain"
        django_class = __import__(django_path.rpartition(".")[0], fromlist=["_"])
        assert issubclass(getattr(middleware, ours.rpartition(".")[2]),
                          getattr(django_class, django_path.rpartition(".")[2]))
    WebHandler()
    assert list(settings.MIDDLEWARE) == listed, "building the handler leaves the setting as it was"


def test_a_callers_route_answers_with_the_security_headers_and_starts_no_thread(
        thread_executors: list[object]) -> None:
    from backend.config.asgi import application

    status, headers = _get(application, "/api/v1/flows/nope/run", method="POST", executors=thread_executors)
    assert status == 401
    assert headers["x-frame-options"] == ["DENY"] and headers["x-content-type-options"] == ["nosniff"]
    assert headers["referrer-policy"] == ["same-origin"] and headers["cross-origin-opener-policy"] == ["same-origin"]
    assert headers["x-request-id"] and "set-cookie" not in headers
    assert thread_executors == [], "no thread of its own for a caller's request"

    status, headers = _get(application, "/api/session/", executors=thread_executors)  # a session route: Django's per-request context, as before
    assert status == 200 and headers["x-frame-options"] == ["DENY"]
    assert any(c.startswith("csrftoken=") for c in headers["set-cookie"]), "CSRF still sets its cookie"
    assert len(thread_executors) == 1, "the detector sees a request's own thread"


@override_settings(SECURE_SSL_REDIRECT=True, SECURE_HSTS_SECONDS=3600)
def test_https_is_enforced_on_the_callers_route_as_everywhere() -> None:
    handler = WebHandler()  # Django's security middleware reads these settings when it is built
    status, headers = _get(handler, "/api/v1/flows/nope/run", method="POST")
    assert status == 301 and headers["location"] == ["https://testserver/api/v1/flows/nope/run"]
    status, headers = _get(handler, "/api/v1/flows/nope/run", method="POST", scheme="https")
    assert status == 401 and headers["strict-transport-security"] == ["max-age=3600"]


def test_exactly_the_callers_async_routes_skip_the_per_request_thread() -> None:
    """A sync view served without Django's per-request context would run in the one shared thread."""
    import re

    from asgiref.sync import iscoroutinefunction

    from backend.endpoints.urls import flow_urlpatterns, openai_urlpatterns

    checked = 0
    for prefix, patterns in (("/api/v1/", flow_urlpatterns), ("/v1/", openai_urlpatterns)):
        for pattern in patterns:
            route = str(pattern.pattern).lstrip("^").rstrip("$")
            path = prefix + re.sub(r"<[^>]+>|\(\?P<\w+>\.\*\)", "some-id", route)
            assert bool(CALLER_ROUTES.fullmatch(path)) == iscoroutinefunction(pattern.callback), path
            checked += 1
    assert checked >= 8
    assert not CALLER_ROUTES.fullmatch("/api/v1/flows/a/openapi.json") and not CALLER_ROUTES.fullmatch("/api/runs/")


def _cookie(headers: dict[str, list[str]], name: str) -> str:
    return next(c.split(";")[0].split("=", 1)[1] for c in headers["set-cookie"] if c.startswith(name + "="))


@pytest.mark.django_db(transaction=True)  # the login view saves the session from a thread of its own
def test_csrf_and_a_saved_session_through_the_servers_handler(alice) -> None:  # type: ignore[no-untyped-def]
    import json

    from backend.config.asgi import application

    status, headers = _get(application, "/api/session/")
    token = _cookie(headers, "csrftoken")
    login = json.dumps({"username": "alice", "password": "alice-pass-123"}).encode()
    form = [(b"content-type", b"application/json"), (b"cookie", f"csrftoken={token}".encode())]

    status, _ = _get(application, "/api/session/login/", "POST", form, body=login)
    assert status == 403, "no CSRF token: refused"
    status, headers = _get(application, "/api/session/login/", "POST",
                           [*form, (b"x-csrftoken", token.encode())], body=login)
    assert status == 200 and "Cookie" in headers["vary"][0]
    session = _cookie(headers, "sessionid")
    assert session, "the session was saved"

    async def whoami() -> dict[str, Any]:
        communicator = ApplicationCommunicator(application, {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": "/api/session/", "raw_path": b"/api/session/", "query_string": b"", "root_path": "",
            "headers": [(b"host", b"testserver"), (b"cookie", f"sessionid={session}".encode())],
            "client": ("127.0.0.1", 5000), "server": ("testserver", 80)})
        await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
        await communicator.receive_output(10)
        return dict(json.loads((await communicator.receive_output(10))["body"]))

    me = async_to_sync(whoami)()
    assert me["authenticated"] is True and me["user"]["username"] == "alice"


@pytest.fixture
def shared_thread_hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of each sync call made to asgiref's shared thread (``thread_sensitive``) while a request runs."""
    hops: list[str] = []
    real = asgiref.sync.SyncToAsync.__call__

    async def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self._thread_sensitive:
            hops.append(getattr(self.func, "__qualname__", repr(self.func)))
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(asgiref.sync.SyncToAsync, "__call__", counted)
    return hops


def test_a_callers_route_sends_djangos_request_signals_on_the_loop_and_others_receivers_in_a_thread(
        shared_thread_hops: list[str]) -> None:
    import asyncio

    from django.core import signals

    from backend.config.asgi import application

    status, _ = _get(application, "/api/v1/runs/some-id", finish=True)
    assert status == 401
    assert shared_thread_hops == [], "request_started and response.close: no hop with Django's own receivers"

    ran: list[str] = []

    def foreign(**_: Any) -> None:  # a receiver that may touch the database: never on the loop
        try:
            asyncio.get_running_loop()
            ran.append("on the loop")
        except RuntimeError:
            ran.append("in a sync thread")

    signals.request_finished.connect(foreign, dispatch_uid="test_foreign_receiver")
    try:
        status, _ = _get(application, "/api/v1/runs/some-id", finish=True)
    finally:
        signals.request_finished.disconnect(dispatch_uid="test_foreign_receiver")
    assert status == 401 and len(shared_thread_hops) == 2, "Django's handle: both calls in the shared thread"
    assert ran == ["in a sync thread"]


def test_another_django_release_gets_djangos_own_handler_on_a_callers_route(  # type: ignore[no-untyped-def]
        shared_thread_hops: list[str], monkeypatch) -> None:
    from backend.config import asgi_handler
    from backend.config.asgi import application

    monkeypatch.setattr(asgi_handler, "COPIED_FROM", (4, 2))  # as if Django were upgraded past the copy
    status, _ = _get(application, "/api/v1/runs/some-id", finish=True)
    assert status == 401 and len(shared_thread_hops) == 2, "Django's handle: both calls in the shared thread"


def test_message_storage_is_made_only_when_used_and_stores_as_before() -> None:
    from django.contrib import messages
    from django.http import HttpRequest, HttpResponse
    from django.test import RequestFactory

    async def adds(request: HttpRequest) -> HttpResponse:
        messages.info(request, "saved")
        return HttpResponse("ok")

    async def quiet(request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")

    for view, stored in ((adds, True), (quiet, False)):
        request = RequestFactory().get("/")
        request.session = {}  # type: ignore[assignment]  # the fallback storage only needs one to exist
        response = async_to_sync(middleware.Messages(view))(request)
        assert ("messages" in response.cookies) == stored, view.__name__
        assert (middleware._made_storage(request) is not None) == stored, "made only when the view used it"
