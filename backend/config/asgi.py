"""ASGI entry point: HTTP through Django, websockets through Channels."""
from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.config.settings")
django_app = get_asgi_application()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402  (needs Django set up)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import re_path  # noqa: E402

from backend.runs.routing import websocket_urlpatterns  # noqa: E402
from backend.runs.ws_auth import auth_stack, origin_checked  # noqa: E402


class NoSuchSocket(AsyncWebsocketConsumer):
    """Any websocket path nobody serves: answered, then closed with 4404 (a dropped handshake tells a client nothing)."""

    async def connect(self) -> None:
        await self.accept()
        await self.close(code=4404, reason="no such websocket path")


application = ProtocolTypeRouter({
    "http": django_app,
    "websocket": origin_checked(auth_stack(URLRouter([*websocket_urlpatterns,
                                                     re_path(r"", NoSuchSocket.as_asgi())]))),
})
