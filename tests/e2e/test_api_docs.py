"""/api/docs/ in Chromium with every other host unreachable: Swagger UI renders the API's operations."""
from __future__ import annotations

from urllib.parse import urlsplit

from tests.e2e.conftest import Browser


def test_swagger_ui_renders_offline(browser: Browser) -> None:
    page = browser.page
    offsite: list[str] = []
    console_errors: list[str] = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)

    def only_this_server(route):  # type: ignore[no-untyped-def]
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:  # what a machine without internet would see
            offsite.append(route.request.url)
            route.abort("internetdisconnected")

    page.route("**/*", only_this_server)
    browser.goto("/api/docs/")
    page.locator(".swagger-ui .opblock").first.wait_for()
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("Patchbay API")
    assert page.locator(".swagger-ui .opblock").count() > 20  # the operations list, not an empty shell
    assert page.locator(".swagger-ui .opblock-summary-path", has_text="/api/graphs/").count() >= 1
    browser.screenshot("api-docs-offline")
    assert not offsite, offsite
    assert not console_errors and not browser.errors, (console_errors, browser.errors)
