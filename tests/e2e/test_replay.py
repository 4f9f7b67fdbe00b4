"""Replay from a node in Chromium: open a finished run, "Replay from here" on its third step with another
prompt, and read the diff (the worker replays it, calling the fake provider over HTTP)."""
from __future__ import annotations

from typing import Any

import pytest

from tests.runs.test_replay import chain_spec

from .conftest import Browser

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fake(alice, fake_openai: Any) -> str:  # type: ignore[no-untyped-def]
    from backend.providers.models import ModelAlias
    from bench.fake_openai import FakeConfig

    fake_openai.configure(**vars(FakeConfig()))
    ModelAlias.objects.create(alias="fake", model="openai/gpt-4o-mini", api_base=fake_openai.url,
                              api_key_env="PATH", max_retries=0, timeout_s=10, description="The fake OpenAI server")
    return "fake"


def finished_run(b: Browser, graph_id: int) -> dict[str, Any]:
    return b.finished_run(graph_id, {"topic": "tides"})


def test_replay_from_a_node_and_read_the_diff(fake: str, fake_openai: Any, browser: Browser) -> None:
    b, page = browser, browser.page
    b.sign_in()
    graph_id = b.api("POST", "/api/graphs/", {"spec": chain_spec(fake)})["body"]["id"]
    original = finished_run(b, graph_id)
    assert original["status"] == "succeeded", original["error"]
    b_output = next(s["output"] for s in original["spans"] if s["kind"] == "node" and s["node_id"] == "b")

    b.goto(f"/graphs/{graph_id}/runs/{original['id']}")
    page.locator("[data-testid=run-header][data-status=succeeded]").wait_for()
    page.get_by_test_id("node-c").click()
    page.get_by_test_id("trace-view").wait_for()
    page.get_by_test_id("span-node-c").click()
    detail = page.get_by_test_id("span-detail")
    detail.get_by_test_id("replay-open").click()
    detail.get_by_test_id("replay-prompt").fill("Shorter: {{ nodes.b.output }}")
    b.screenshot("replay-01-form")
    fake_openai.reset_stats()
    detail.get_by_test_id("replay-start").click()

    diff = detail.get_by_test_id("replay-diff")
    diff.wait_for(timeout=30000)
    assert fake_openai.stats()["requests"] == 2  # only c and d called the model
    assert diff.get_by_test_id("diff-b").get_attribute("data-changed") == "false"
    assert diff.get_by_test_id("diff-c").get_attribute("data-changed") == "true"
    assert "fake answer: Shorter: " + b_output[:20] in diff.get_by_test_id("diff-c").inner_text()
    assert "4 → 2" in diff.get_by_test_id("replay-totals").inner_text()
    diff.get_by_test_id("diff-out").scroll_into_view_if_needed()
    b.screenshot("replay-02-diff")

    diff.get_by_test_id("open-replay").click()
    page.get_by_test_id("span-node-b").click()
    detail.get_by_text("stored output of the original run").wait_for()
    b.screenshot("replay-03-replay-trace")
    assert b.errors == []
