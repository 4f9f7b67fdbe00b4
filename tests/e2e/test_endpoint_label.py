"""The Endpoints page in Chromium: an admin switches what an endpoint serves ("Serves: production ▾" → staging),
confirms in words, and the next HTTP call answers from the staging release; production stays where it was."""
from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from tests.endpoints.conftest import tagged_spec

from .conftest import Browser

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

SLUG = "served-e2e"


def test_an_admin_switches_the_label_an_endpoint_serves(browser: Browser) -> None:
    b, page = browser, browser.page
    b.sign_in()
    graph = b.api("POST", "/api/graphs/", {"spec": tagged_spec("one", name="Served E2E")})["body"]["id"]
    assert b.api("POST", "/api/endpoints/", {"graph": graph, "slug": SLUG})["status"] == 201
    key = b.api("POST", "/api/api-keys/", {"name": "e2e", "rate_limit_per_minute": None})["body"]["key"]
    assert b.api("PUT", f"/api/graphs/{graph}/", {"spec": tagged_spec("two", name="Served E2E")})["status"] == 201
    made = b.api("POST", f"/api/graphs/{graph}/releases/", {"version": 2, "note": "try it on staging"})
    assert made["status"] == 201, made
    assert b.api("PUT", f"/api/graphs/{graph}/labels/staging/", {"release": made["body"]["number"]})["status"] == 200

    def answer() -> str:
        response = httpx.post(f"{b.base}/api/v1/flows/{SLUG}/run", json={"input": {"text": "hi"}},
                              headers={"Authorization": f"Bearer {key}"}, timeout=60)
        assert response.status_code == 200, response.text
        return str(response.json()["output"]["version"])

    assert answer() == "one"
    b.goto("/endpoints")
    row = page.locator(f"[data-testid=endpoint-row][data-slug={SLUG}]")
    select = row.get_by_test_id("endpoint-label-select")
    expect(select).to_have_value("production")
    expect(row).to_contain_text("Serves:")
    b.screenshot("endpoint-label-1-serves-production")

    select.select_option("staging")
    confirm = row.get_by_test_id("endpoint-label-confirm")
    expect(confirm).to_contain_text("Callers get staging (release 2, v2) from their next call.")
    b.screenshot("endpoint-label-2-confirm")
    assert answer() == "one", "nothing changes before Switch is pressed"
    confirm.get_by_test_id("endpoint-label-switch").click()
    expect(row.get_by_test_id("endpoint-label-confirm")).to_have_count(0)
    expect(row.get_by_test_id("endpoint-version")).to_contain_text("v2")
    expect(select).to_have_value("staging")
    b.screenshot("endpoint-label-3-serves-staging")

    assert answer() == "two"
    labels = {label["name"]: label["release"] for label in b.api("GET", f"/api/graphs/{graph}/releases/")["body"]["labels"]}
    assert labels == {"production": 1, "staging": 2}, "switching moves no label"
    assert b.errors == []
