"""ASGI entry point: HTTP through Django, websockets through Channels."""
from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.config.settings")
django_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402  (needs Django set up)

from backend.runs.routing import websocket_urlpatterns  # noqa: E402
from backend.runs.ws_auth import auth_stack, origin_checked  # noqa: E402

application = ProtocolTypeRouter({
    "http": django_app,
    "websocket": origin_checked(auth_stack(URLRouter(websocket_urlpatterns))),
})
