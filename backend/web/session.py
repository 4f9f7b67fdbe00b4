"""Session sign-in for the canvas: the browser holds a session cookie and sends the CSRF token back.

The SPA reads the ``csrftoken`` cookie (set by every answer here and by the page
itself) and returns it in ``X-CSRFToken`` on every unsafe request. Sign-in is
CSRF-protected too, so another site cannot sign a visitor in to its account.
"""
from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, login, logout
from django.middleware.csrf import get_token
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_protect, ensure_csrf_cookie
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.config.api import parse
from backend.config.errors import InvalidRequest
from backend.graphs.authz import role_of
from backend.graphs.services import workspace_for_user


class LoginInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=1000, trim_whitespace=False)


def session_out(request: Request) -> dict[str, Any]:
    user = request.user
    if not user.is_authenticated:
        return {"authenticated": False, "user": None, "csrf_token": get_token(request)}
    workspace = workspace_for_user(user)
    return {
        "authenticated": True,
        "user": {"username": user.get_username(), "is_staff": user.is_staff},
        "workspace": {"id": workspace.pk, "name": workspace.name, "role": role_of(user, workspace)},
        "csrf_token": get_token(request),
    }


@method_decorator(ensure_csrf_cookie, name="dispatch")
class SessionView(APIView):
    """Who is signed in (never a 403: the canvas asks this before anything else)."""

    permission_classes = [AllowAny]

    @extend_schema(operation_id="session_get", responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        return Response(session_out(request))


@method_decorator(csrf_protect, name="dispatch")
class LoginView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []  # the credentials are in the body; a stale session must not interfere

    @extend_schema(operation_id="session_login", request=LoginInput, responses={200: OpenApiTypes.OBJECT,
                                                                               400: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        data = parse(LoginInput, request)
        user = authenticate(request._request, username=data["username"], password=data["password"])
        if user is None or not user.is_active:
            raise InvalidRequest("That username and password do not match an account.",
                                 [{"path": "password", "message": "check the username and password"}],
                                 code="bad_credentials")
        login(request._request, user)
        request._request.user = user
        request.user = user
        return Response(session_out(request))


class LogoutView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(operation_id="session_logout", request=None, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)
