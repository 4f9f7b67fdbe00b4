"""Caching you can see: a repeated deterministic run says in its header what the cache saved, its trace marks
the cached call, and "Run fresh (skip cache)" asks the model again."""
from __future__ import annotations

import json
import re
import uuid

import pytest

from .conftest import Browser

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

SPEC = {
    "schema": "patchbay.graph/v1", "name": "cached greeting",
    "inputs": {"type": "object", "properties": {"text": {"type": "string", "title": "Text"}}, "required": ["text"]},
    "nodes": [
        {"id": "in", "type": "input"},
        {"id": "greet", "type": "llm", "config": {"model": "fast", "prompt": "Greet {{ input.text }}",
                                                  "params": {"temperature": 0}, "stream": False}},
        {"id": "out", "type": "output", "config": {"value": "{{ nodes.greet.output }}"}},
    ],
    "edges": [{"from": "in", "to": "greet"}, {"from": "greet", "to": "out"}],
}


def _run_and_wait(b: Browser, previous: str | None) -> str:
    page = b.page
    page.get_by_test_id("tab-run").click()
    page.get_by_test_id("run-start").click()
    page.wait_for_function(f"window.__patchbay.run.getState().runId !== {json.dumps(previous)}")
    page.locator("[data-testid=run-header][data-status=succeeded]").wait_for()
    return page.evaluate("window.__patchbay.run.getState().runId")


def test_the_header_and_trace_show_what_the_cache_saved_and_run_fresh_skips_it(browser: Browser) -> None:
    b, page = browser, browser.page
    b.sign_in()
    created = b.api("POST", "/api/graphs/", {"spec": SPEC, "message": "from the test"})
    assert created["status"] == 201, created
    b.goto(f"/graphs/{created['body']['id']}")
    page.get_by_test_id("tab-run").click()
    page.get_by_test_id("run-input-text").fill(f"the team {uuid.uuid4().hex[:8]}")  # a key no other test made

    first = _run_and_wait(b, None)
    assert page.get_by_test_id("run-cache").count() == 0, "nothing came from the cache the first time"
    first_cost = b.api("GET", f"/api/runs/{first}/")["body"]["totals"]["cost_usd"]
    assert first_cost > 0

    second = _run_and_wait(b, first)
    words = page.get_by_test_id("run-cache")
    words.wait_for()
    assert re.fullmatch(r"cached: 1 · saved \$[0-9.]+", words.inner_text().strip())
    totals = b.api("GET", f"/api/runs/{second}/")["body"]["totals"]
    assert totals["cache_hits"] == 1 and totals["llm_calls"] == 0
    assert totals["saved_usd"] == pytest.approx(first_cost)
    page.get_by_test_id("open-trace").click()
    cached = page.get_by_test_id("span-cached")
    cached.wait_for()
    cached.click()
    assert "answered from the cache" in page.get_by_test_id("span-detail").inner_text()
    b.screenshot("cache-01-hit-in-header-and-trace")

    page.get_by_test_id("tab-run").click()
    page.get_by_test_id("run-fresh").check()
    b.screenshot("cache-02-run-fresh-checked")
    third = _run_and_wait(b, second)
    body = b.api("GET", f"/api/runs/{third}/")["body"]
    assert body["fresh"] is True and body["totals"]["cache_hits"] == 0 and body["totals"]["llm_calls"] == 1
    assert page.get_by_test_id("run-cache").count() == 0
    b.screenshot("cache-03-fresh-run")
    assert not b.errors
