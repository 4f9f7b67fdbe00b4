"""Websocket auth: the browser's session cookie, or a DRF token for scripts.

Scripts send ``Authorization: Token <key>``; the session path is Channels' own.
"""
from __future__ import annotations

from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async


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
