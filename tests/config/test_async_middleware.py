"""On the async stack (ASGI, as Uvicorn serves) Django's middleware still does all it did, hooks on the loop.

Django's ``AsyncClient`` goes through the ASGI handler and the async middleware chain
(backend/config/middleware.py), like the web server; the sync test client elsewhere
covers the WSGI path.
"""
from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient

pytestmark = pytest.mark.django_db


def test_headers_cookies_csrf_and_a_saved_session_on_the_async_stack(alice) -> None:  # type: ignore[no-untyped-def]
    client = AsyncClient(enforce_csrf_checks=True)

    first = async_to_sync(client.get)("/api/session/")
    assert first.status_code == 200 and first.json()["authenticated"] is False
    assert first["X-Frame-Options"] == "DENY" and first["X-Content-Type-Options"] == "nosniff"
    assert first["Referrer-Policy"] == "same-origin"
    token = first.cookies["csrftoken"].value

    body = {"username": "alice", "password": "alice-pass-123"}
    refused = async_to_sync(client.post)("/api/session/login/", body, content_type="application/json")
    assert refused.status_code == 403, "no CSRF token: refused"

    login = async_to_sync(client.post)("/api/session/login/", body, content_type="application/json",
                                       headers={"X-CSRFToken": token})
    assert login.status_code == 200 and login.cookies["sessionid"].value, "the session was saved"
    again = async_to_sync(client.get)("/api/session/")
    assert again.json()["authenticated"] is True and again.json()["user"]["username"] == "alice"


def test_a_flow_call_answer_carries_the_security_headers() -> None:
    response = async_to_sync(AsyncClient().post)("/api/v1/flows/nope/run", {}, content_type="application/json")
    assert response.status_code == 401
    assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Request-Id"]
