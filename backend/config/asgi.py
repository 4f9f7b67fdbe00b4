"""ASGI entry point: HTTP through Django, websockets through Channels."""
from __future__ import annotations

import json
import os
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.config.settings")

from backend.config.asgi_handler import web_application  # noqa: E402

django_app = web_application()  # Django's ASGI handler without a thread per request (see asgi_handler.py)

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402  (needs Django set up)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import get_resolver, re_path  # noqa: E402

from backend.evals.routing import websocket_urlpatterns as eval_sockets  # noqa: E402
from backend.runs.routing import websocket_urlpatterns  # noqa: E402
from backend.runs.ws_auth import auth_stack, origin_checked  # noqa: E402

# Load the URL conf (every view, serializer and the OpenAPI generator) now, before the server listens, not on the
# first request: the port opens when the app is whole, and the first caller after a start is not the slow one.
_ = get_resolver().url_patterns


class NoSuchSocket(AsyncWebsocketConsumer):
    """Any websocket path nobody serves: answered, then closed with 4404 (a dropped handshake tells a client nothing)."""

    async def connect(self) -> None:
        await self.accept()
        await self.close(code=4404, reason="no such websocket path")


async def readable_query_strings(scope: dict, receive: Any, send: Any) -> None:
    """Django's ASGI handler decodes the query string before any middleware runs and answers a byte that is not
    UTF-8 with an empty 400; answer it here in the API's error shape instead."""
    try:
        scope.get("query_string", b"").decode("utf-8")
    except UnicodeDecodeError:
        body = json.dumps({"error": "invalid", "message": "The query string is not valid UTF-8.",
                           "problems": [{"path": "query", "message": "not valid UTF-8"}]}).encode()
        await send({"type": "http.response.start", "status": 400,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
        return
    await django_app(scope, receive, send)


application = ProtocolTypeRouter({
    "http": readable_query_strings,
    "websocket": origin_checked(auth_stack(URLRouter([*websocket_urlpatterns, *eval_sockets,
                                                     re_path(r"", NoSuchSocket.as_asgi())]))),
})
