"""The canvas's audit log page, driven in Chromium: an admin sees each change with its from → to, and filters."""
from __future__ import annotations

from ..e2e.conftest import Browser, browser, built_canvas, slow_demo_models  # noqa: F401 (fixtures)
from ..endpoints.conftest import tagged_spec


def test_an_admin_reads_the_audit_log_and_filters_it(browser: Browser) -> None:  # noqa: F811
    b = browser
    b.sign_in()
    graph = b.api("POST", "/api/graphs/", {"spec": tagged_spec("one")})["body"]
    assert b.api("PUT", f"/api/graphs/{graph['id']}/", {"spec": tagged_spec("two")})["status"] == 201
    assert b.api("POST", "/api/endpoints/", {"graph": graph["id"], "slug": "ask", "version": 1})["status"] == 201
    assert b.api("POST", "/api/endpoints/ask/publish/", {"version": 2, "note": "better answers"})["status"] == 200
    key = b.api("POST", "/api/api-keys/", {"name": "billing service"})["body"]
    assert b.api("PATCH", f"/api/api-keys/{key['id']}/", {"scopes": ["ask"]})["status"] == 200
    assert b.api("POST", f"/api/api-keys/{key['id']}/revoke/")["status"] == 200
    b.api("POST", "/api/prompts/", {"name": "greet", "template": "Hello {{ input.name }}"})
    b.api("POST", "/api/prompts/greet/versions/", {"template": "Hi {{ input.name }}!"})
    assert b.api("PUT", "/api/prompts/greet/labels/production/", {"version": 2})["status"] == 200

    b.page.get_by_test_id("audit-link").click()
    b.page.get_by_test_id("audit-table").wait_for()
    rows = b.page.get_by_test_id("audit-row")
    assert rows.count() == 6  # two publishes, the key made, scoped and revoked, one label move
    first = rows.first.inner_text()
    assert "Moved prompt label" in first and "greet" in first and "alice" in first
    assert "version" in first and "1" in first and "2" in first
    assert key["key"] not in b.page.content(), "the key is shown once, at creation, never in the log"
    b.screenshot("audit-01-log")

    b.page.get_by_test_id("audit-action-filter").select_option("api_key.revoked")
    b.page.wait_for_function("document.querySelectorAll('[data-testid=audit-row]').length === 1")
    only = rows.first.inner_text()
    assert "Revoked API key" in only and "billing service" in only and "revoked" in only
    b.screenshot("audit-02-filtered")

    b.page.get_by_test_id("audit-action-filter").select_option("endpoint.published")
    b.page.wait_for_function("document.querySelectorAll('[data-testid=audit-row]').length === 2")
    assert "better answers" in rows.first.inner_text()
    assert b.errors == []
