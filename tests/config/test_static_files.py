"""Static files are served on the async stack without sending every other request through a thread."""
from __future__ import annotations

import threading
from pathlib import Path

from asgiref.sync import async_to_sync, iscoroutinefunction
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from backend.config.static_files import StaticFilesMiddleware


def test_a_flow_call_passes_on_the_event_loop_and_a_static_file_is_still_served(tmp_path: Path) -> None:
    (tmp_path / "app.css").write_text("body{}")
    seen: list[str] = []

    async def view(request):  # type: ignore[no-untyped-def]
        seen.append(threading.current_thread().name)
        return HttpResponse("from the view")

    with override_settings(STATIC_ROOT=tmp_path, STATIC_URL="/static/", WHITENOISE_AUTOREFRESH=False):
        middleware = StaticFilesMiddleware(view)
    assert iscoroutinefunction(middleware), "Django must not wrap the stack below in an async→sync adapter"

    async def both() -> tuple[HttpResponse, HttpResponse, str]:
        factory = RequestFactory()
        passed = await middleware(factory.post("/api/v1/flows/ask/run"))
        served = await middleware(factory.get("/static/app.css"))
        return passed, served, threading.current_thread().name

    passed, served, loop_thread = async_to_sync(both)()
    assert passed.content == b"from the view" and seen == [loop_thread]
    assert served.status_code == 200 and b"".join(served.streaming_content) == b"body{}"
