"""The built canvas is served by Django: index.html for client routes, assets from frontend/dist."""
from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from backend.web import spa

pytestmark = pytest.mark.django_db


@pytest.fixture
def dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text('<!doctype html><div id="root"></div><script src="/static/assets/app-1.js">'
                                         "</script>")
    (tmp_path / "assets" / "app-1.js").write_text("console.log('canvas')")
    (tmp_path.parent / "secret.txt").write_text("not for the web")
    monkeypatch.setattr(spa, "DIST", tmp_path)
    return tmp_path


@pytest.mark.parametrize("path", ["/", "/graphs/12", "/graphs/12/runs/4b1e0c4e-1111-2222-3333-444455556666", "/login"])
def test_every_client_route_gets_the_page_with_a_csrf_cookie(dist: Path, path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 200
    assert b'<div id="root">' in response.content
    assert response["Cache-Control"] == "no-cache"
    assert "csrftoken" in response.cookies


def test_api_and_admin_paths_are_not_swallowed_by_the_page(dist: Path, alice_api) -> None:  # type: ignore[no-untyped-def]
    response = alice_api.get("/api/no-such-thing/")
    assert response.status_code == 404 and b"root" not in response.content
    assert Client().get("/admin/login/").status_code == 200


def test_assets_are_served_from_the_build_with_long_caching(dist: Path) -> None:
    response = Client().get("/static/assets/app-1.js")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"console.log('canvas')"
    assert "immutable" in response["Cache-Control"]
    assert response["Content-Type"].startswith(("text/javascript", "application/javascript"))


def test_nothing_outside_the_build_is_served(dist: Path) -> None:
    assert Client().get("/static/../secret.txt").status_code == 404
    assert Client().get("/static/assets/%2e%2e/%2e%2e/secret.txt").status_code == 404
    assert Client().get("/static/assets/missing.js").status_code == 404


def test_without_a_build_the_page_says_how_to_make_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spa, "DIST", tmp_path / "nothing")
    response = Client().get("/")
    assert response.status_code == 503 and b"make run" in response.content
