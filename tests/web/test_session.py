"""Session sign-in for the canvas: CSRF-protected, answers in the API's error shape."""
from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def csrf_client() -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    response = client.get("/api/session/")
    return client, response.cookies["csrftoken"].value


def test_an_anonymous_visitor_gets_a_csrf_cookie_and_no_user() -> None:
    client = Client()
    response = client.get("/api/session/")
    assert response.status_code == 200
    assert response.json()["authenticated"] is False and response.json()["user"] is None
    assert "csrftoken" in response.cookies


def test_sign_in_starts_a_session_that_the_api_accepts(alice) -> None:  # type: ignore[no-untyped-def]
    client, token = csrf_client()
    response = client.post("/api/session/login/", {"username": "alice", "password": "alice-pass-123"},
                           content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["authenticated"] is True and body["user"]["username"] == "alice"
    assert body["workspace"]["name"] == "alice's workspace"
    assert client.get("/api/graphs/").status_code == 200
    assert client.get("/api/session/").json()["user"]["username"] == "alice"


def test_sign_in_without_the_csrf_token_is_refused(alice) -> None:  # type: ignore[no-untyped-def]
    client, _ = csrf_client()
    response = client.post("/api/session/login/", {"username": "alice", "password": "alice-pass-123"},
                           content_type="application/json")
    assert response.status_code == 403
    assert client.get("/api/session/").json()["authenticated"] is False


def test_a_wrong_password_says_so_in_the_error_shape(alice) -> None:  # type: ignore[no-untyped-def]
    client, token = csrf_client()
    response = client.post("/api/session/login/", {"username": "alice", "password": "nope"},
                           content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "bad_credentials" and "do not match" in body["message"]
    assert body["problems"][0]["path"] == "password"


def test_a_missing_field_is_a_problem_with_its_path() -> None:
    client, token = csrf_client()
    response = client.post("/api/session/login/", {"username": "alice"}, content_type="application/json",
                           HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 400
    assert [p["path"] for p in response.json()["problems"]] == ["password"]


def test_sign_out_ends_the_session_and_needs_the_csrf_token(alice) -> None:  # type: ignore[no-untyped-def]
    client, token = csrf_client()
    client.post("/api/session/login/", {"username": "alice", "password": "alice-pass-123"},
                content_type="application/json", HTTP_X_CSRFTOKEN=token)
    token = client.cookies["csrftoken"].value  # rotated at sign-in
    assert client.post("/api/session/logout/").status_code == 403
    assert client.post("/api/session/logout/", HTTP_X_CSRFTOKEN=token).status_code == 204
    assert client.get("/api/session/").json()["authenticated"] is False
    assert client.get("/api/graphs/").status_code == 403


def test_the_api_refuses_a_session_write_without_the_csrf_token(alice) -> None:  # type: ignore[no-untyped-def]
    client, token = csrf_client()
    client.post("/api/session/login/", {"username": "alice", "password": "alice-pass-123"},
                content_type="application/json", HTTP_X_CSRFTOKEN=token)
    response = client.post("/api/graphs/validate/", {"spec": {}}, content_type="application/json")
    assert response.status_code == 403
    token = client.cookies["csrftoken"].value
    response = client.post("/api/graphs/validate/", {"spec": {}}, content_type="application/json",
                           HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200 and response.json()["valid"] is False
