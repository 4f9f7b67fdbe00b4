"""/api/docs/ works without the internet: Swagger UI comes from this server's /static/, never from a CDN."""
from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from tests.conftest import LiveStack

# Every URL in an attribute or a JS string of the page: src/href values and quoted absolute or root-relative paths.
_URLS = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|["']((?:https?:)?//[^"']+|/static/[^"']+)["']""")


def _asset_urls(html: str) -> set[str]:
    return {a or b for a, b in _URLS.findall(html)}


def _docs_page() -> str:
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


@pytest.mark.django_db
def test_swagger_ui_page_refers_only_to_this_server() -> None:
    urls = _asset_urls(_docs_page())
    offsite = sorted(u for u in urls if re.match(r"(?:https?:)?//", u))
    assert not offsite, f"the docs page loads from other hosts: {offsite}"
    static = {u for u in urls if u.startswith("/static/")}
    # The UI itself: its script bundle, its stylesheet and the favicon all come from the sidecar app.
    assert any(u.endswith("swagger-ui-bundle.js") for u in static), urls
    assert any(u.endswith("swagger-ui.css") for u in static), urls
    assert any("favicon" in u for u in static), urls


def test_swagger_ui_assets_are_served_by_the_live_server(live_stack: LiveStack) -> None:
    """Daphne answers every asset the page names (uncollected: the staticfiles fallback; see web/spa.py)."""
    with httpx.Client(base_url=live_stack.http_url, timeout=15) as http:
        page = http.get("/api/docs/")
        assert page.status_code == 200
        static = sorted(u for u in _asset_urls(page.text) if u.startswith("/static/"))
        assert len(static) >= 3, static
        for url in static:
            response = http.get(url)
            assert response.status_code == 200, (url, response.status_code)
            assert len(response.content) > 100, url
        assert http.get("/static/drf_spectacular_sidecar/no-such-file.js").status_code == 404
        escaping = http.get("/static/%2e%2e/backend/config/settings.py")  # encoded: the client keeps the dots
        assert escaping.status_code == 404 and "SECRET_KEY" not in escaping.text


@pytest.mark.django_db
def test_collectstatic_gathers_the_swagger_ui_for_whitenoise(tmp_path: Path) -> None:
    """Production (make run, the image) collects static files and WhiteNoise serves them: the UI must be there."""
    with override_settings(STATIC_ROOT=str(tmp_path)):
        call_command("collectstatic", interactive=False, verbosity=0)
        static = {u.removeprefix("/static/") for u in _asset_urls(_docs_page()) if u.startswith("/static/")}
    assert static
    for relative in static:
        assert (tmp_path / relative).is_file(), relative
