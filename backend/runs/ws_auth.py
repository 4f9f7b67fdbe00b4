"""Websocket auth: the browser's session cookie, or a DRF token for scripts.

Scripts send ``Authorization: Token <key>``; the session path is Channels' own.
"""
from __future__ import annotations

from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.security.websocket import OriginValidator
from django.conf import settings


@database_sync_to_async
def _user_for_token(key: str) -> Any:
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=key).first()
    return token.user if token and token.user.is_active else None


class TokenAuthMiddleware:
    def __init__(self, inner: Any):
        self.inner = inner

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        headers = dict(scope.get("headers") or [])
        auth = headers.get(b"authorization", b"").decode()
        if auth.lower().startswith("token "):
            user = await _user_for_token(auth[6:].strip())
            if user is not None:
                scope = {**scope, "user": user}
        return await self.inner(scope, receive, send)


def auth_stack(inner: Any) -> Any:
    # Session first (it sets scope["user"], anonymous if no cookie), then a token may override.
    return AuthMiddlewareStack(TokenAuthMiddleware(inner))


class BrowserOriginValidator(OriginValidator):
    """Refuse cross-site websocket hijacking without locking out scripts.

    Browsers always send Origin, so a browser connection must come from one of
    ALLOWED_HOSTS. Scripts send no Origin and must authenticate with a token.
    """

    def valid_origin(self, parsed_origin: Any) -> bool:
        if parsed_origin is None:
            return True
        return super().valid_origin(parsed_origin)


def origin_checked(inner: Any) -> Any:
    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG:
        hosts += [".localhost", "127.0.0.1", "[::1]"]
    return BrowserOriginValidator(inner, hosts)
