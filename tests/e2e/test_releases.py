"""Releases in the editor, in Chromium against the live stack: diff two releases, see what a move changes for
live traffic, move production back (the rollback), and see the next endpoint call answer from the old release.
"""
from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.endpoints.conftest import INPUTS

from .conftest import Browser

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

SLUG = "toned-e2e"


def spec(tag: str, *, polish: bool = False) -> dict[str, Any]:
    """input → ask (prompt tone@production) [→ polish] → output {reply, version}."""
    nodes: list[dict[str, Any]] = [{"id": "in", "type": "input"},
                                   {"id": "ask", "type": "llm", "config": {"model": "fast",
                                                                           "prompt_ref": "tone@production"}}]
    last = "ask"
    if polish:
        nodes.append({"id": "polish", "type": "llm", "config": {"model": "frontier",
                                                                "prompt": "Polish this: {{ nodes.ask.output }}"}})
        last = "polish"
    nodes.append({"id": "out", "type": "output", "config": {"value": {"reply": f"{{{{ nodes.{last}.output }}}}",
                                                                       "version": tag}}})
    edges = [{"from": "in", "to": "ask"}, *([{"from": "ask", "to": "polish"}] if polish else []),
             {"from": last, "to": "out"}]
    return {"schema": "patchbay.graph/v1", "name": "Toned E2E", "inputs": INPUTS, "nodes": nodes, "edges": edges}


def call(b: Browser, key: str) -> dict[str, Any]:
    response = httpx.post(f"{b.base}/api/v1/flows/{SLUG}/run", json={"input": {"text": "refunds"}},
                          headers={"Authorization": f"Bearer {key}"}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()["output"]


def three_releases(b: Browser) -> tuple[int, str]:
    """Release 1: v1 with tone@1; release 2: tone's production label moved to 2 (followed); release 3: v2."""
    assert b.api("POST", "/api/prompts/", {"name": "tone", "template": "Answer in tone ONE: {{ input.text }}"})[
        "status"] == 201
    graph = b.api("POST", "/api/graphs/", {"spec": spec("one")})["body"]["id"]
    assert b.api("POST", "/api/endpoints/", {"graph": graph, "slug": SLUG})["status"] == 201
    key = b.api("POST", "/api/api-keys/", {"name": "e2e", "rate_limit_per_minute": None})["body"]["key"]
    assert b.api("POST", "/api/prompts/tone/versions/", {"template": "Answer in tone TWO: {{ input.text }}"})[
        "status"] == 201
    assert b.api("PUT", "/api/prompts/tone/labels/production/", {"version": 2})["status"] == 200
    assert b.api("PUT", f"/api/graphs/{graph}/", {"spec": spec("two", polish=True)})["status"] == 201
    published = b.api("POST", f"/api/endpoints/{SLUG}/publish/", {"version": 2, "note": "adds a polish step"})
    assert published["status"] == 200 and published["body"]["release"] == 3, published
    return graph, key


def test_diff_two_releases_and_roll_back(browser: Browser) -> None:
    from playwright.sync_api import expect

    b, page = browser, browser.page
    b.sign_in()
    graph, key = three_releases(b)
    assert call(b, key)["version"] == "two"

    b.goto(f"/graphs/{graph}")
    page.get_by_test_id("tab-releases").click()
    panel = page.get_by_test_id("releases-panel")
    expect(panel.get_by_test_id("release-label-3-production")).to_be_visible()
    expect(panel.get_by_test_id("release-row-2")).to_contain_text("prompt tone@production moved from version 1 to 2")

    # Diff release 1 against release 3: the added step, the changed output, the prompt text, the new model.
    panel.get_by_test_id("release-compare-1").click()
    compare = panel.get_by_test_id("release-compare")
    compare.get_by_test_id("release-compare-from").select_option("1")
    compare.get_by_test_id("release-compare-to").select_option("3")
    summary = compare.get_by_test_id("release-summary")
    expect(summary).to_contain_text("Step 'polish' is added.")
    expect(summary).to_contain_text("Prompt tone@production changes from tone@1 to tone@2.")
    expect(summary).to_contain_text("Model 'frontier'")
    prompt = compare.get_by_test_id("release-prompt-tone@production")
    expect(prompt.locator(".ld-del")).to_have_text("− Answer in tone ONE: {{ input.text }}")
    expect(prompt.locator(".ld-add")).to_have_text("+ Answer in tone TWO: {{ input.text }}")
    expect(compare.get_by_test_id("diff-view")).to_contain_text("polish")  # the History diff of the steps
    compare.scroll_into_view_if_needed()
    b.screenshot("releases-1-diff")

    # Roll back: production to release 1. The dialog says what live traffic loses before anything moves.
    panel.get_by_test_id("release-move-production-1").click()
    dialog = page.get_by_test_id("release-move-dialog")
    expect(dialog).to_contain_text("Live traffic on production runs release 3 now")
    expect(dialog.get_by_test_id("release-summary")).to_contain_text("Step 'polish' is removed.")
    expect(dialog.get_by_test_id("release-summary")).to_contain_text("from tone@2 to tone@1")
    dialog.get_by_test_id("release-move-note").fill("tone two upsets customers")
    b.screenshot("releases-2-move-preview")
    assert call(b, key)["version"] == "two", "nothing moved before the confirmation"
    dialog.get_by_test_id("release-move-confirm").click()
    expect(dialog).to_have_count(0)
    expect(panel.get_by_test_id("release-label-1-production")).to_be_visible()
    expect(panel.get_by_test_id("release-move-row").first).to_contain_text("tone two upsets customers")
    expect(panel.get_by_test_id("release-rollback")).to_contain_text("release 3")  # the way forward again
    expect(page.get_by_test_id("live-version")).to_contain_text("Live: v1")  # the header follows the label
    panel.get_by_test_id("release-row-1").scroll_into_view_if_needed()
    b.screenshot("releases-3-rolled-back")

    output = call(b, key)
    assert output["version"] == "one" and "ONE" in output["reply"], output

    # The runs list says which release each call ran: the newest on release 1, the two before on release 3.
    page.get_by_test_id("tab-runs").click()
    releases = page.get_by_test_id("runs-panel").get_by_test_id("run-release")
    expect(releases).to_have_text(["release 1", "release 3", "release 3"])
    b.screenshot("releases-4-runs-say-their-release")
    page.get_by_test_id("run-row").first.locator("button.run-row").click()
    expect(page.get_by_test_id("run-header").get_by_test_id("run-release")).to_have_text("release 1")
    assert b.errors == []
