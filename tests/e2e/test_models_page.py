"""The Models page in Chromium: flip a kill switch, then read the next run's fallback in its trace."""
from __future__ import annotations

from typing import Any

import pytest

from .conftest import Browser

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

GRAPH = {
    "schema": "patchbay.graph/v1", "name": "Greeter", "inputs": {"type": "object"},
    "nodes": [
        {"id": "in", "type": "input"},
        {"id": "ask", "type": "llm", "config": {"model": "primary", "prompt": "Greet {{ input.who }}"}},
        {"id": "out", "type": "output", "config": {"value": "{{ nodes.ask.output }}"}},
    ],
    "edges": [{"from": "in", "to": "ask"}, {"from": "ask", "to": "out"}],
}


@pytest.fixture
def primary(alice, fake_openai: Any) -> None:  # type: ignore[no-untyped-def]
    from backend.providers.models import ModelAlias

    alice.is_staff = True
    alice.save()
    ModelAlias.objects.create(alias="primary", model="openai/gpt-4o-mini", api_base=fake_openai.url,
                              api_key_env="PATH", max_retries=0, timeout_s=5, fallbacks=["fast"],
                              description="The fake OpenAI server")


def finished_run(b: Browser, graph_id: int) -> dict[str, Any]:
    return b.finished_run(graph_id, {"who": "the team"})


def test_flip_a_kill_switch_and_see_the_fallback_in_the_next_runs_trace(primary: None, browser: Browser) -> None:
    b, page = browser, browser.page
    b.sign_in()
    graph_id = b.api("POST", "/api/graphs/", {"spec": GRAPH})["body"]["id"]
    before = finished_run(b, graph_id)
    assert before["status"] == "succeeded"
    assert next(s for s in before["spans"] if s["kind"] == "llm")["model"] == "openai/gpt-4o-mini"

    page.get_by_test_id("models-link").click()
    card = page.get_by_test_id("model-primary")
    card.wait_for()
    assert "set (never shown)" in card.get_by_test_id("key-primary").inner_text()
    card.get_by_test_id("health-primary").get_by_text("Calls (24 h)").wait_for()
    assert card.get_by_test_id("breaker-primary").inner_text() == "Closed"
    b.screenshot("models-01-page")

    switch = page.get_by_test_id("kill-switch-primary")
    assert switch.is_checked()
    switch.click()
    b.toast("success").filter(has_text="primary is switched off").wait_for()
    page.locator("[data-testid=model-primary].model-off").wait_for()
    assert not switch.is_checked()
    b.screenshot("models-02-switched-off")

    # The editor: the server's problems appear beside the field; nothing is changed.
    page.get_by_test_id("edit-primary").click()
    page.get_by_test_id("edit-timeout").fill("0")
    page.get_by_test_id("save-model").click()
    page.get_by_test_id("problem-timeout_s").wait_for()
    b.screenshot("models-03-editor-problem")
    assert b.api("GET", "/api/models/primary/")["body"]["timeout_s"] == 5

    after = finished_run(b, graph_id)  # run by the Celery worker process
    assert after["status"] == "succeeded"
    b.goto(f"/graphs/{graph_id}/runs/{after['id']}")
    page.locator("[data-testid=run-header][data-status=succeeded]").wait_for()
    page.get_by_test_id("node-ask").click()
    page.get_by_test_id("trace-view").wait_for()
    page.get_by_test_id("span-llm-ask").click()
    detail = page.get_by_test_id("span-detail")
    detail.get_by_text("demo/fast").first.wait_for()
    assert "primary is switched off" in detail.get_by_text("Answered by a fallback").locator("..").inner_text()
    b.screenshot("models-04-trace-fallback")
    assert b.errors == []


@pytest.fixture
def wobbly(alice, bob, fake_openai: Any) -> None:  # type: ignore[no-untyped-def]
    from backend.providers.models import ModelAlias

    alice.is_staff = True
    alice.save()
    ModelAlias.objects.create(alias="wobbly", model="openai/gpt-4o-mini+error_500", api_base=fake_openai.url,
                              api_key_env="PATH", max_retries=0, timeout_s=5, breaker_failures=3,
                              breaker_cooldown_s=600)


def test_a_tripped_breaker_shows_on_the_models_page_and_a_member_cannot_flip_switches(
        wobbly: None, browser: Browser) -> None:
    b, page = browser, browser.page
    b.sign_in()
    graph_id = b.api("POST", "/api/graphs/", {"spec": {**GRAPH, "nodes": [
        GRAPH["nodes"][0], {**GRAPH["nodes"][1], "config": {"model": "wobbly", "prompt": "Hi"}}, GRAPH["nodes"][2]]}}
    )["body"]["id"]
    for _ in range(4):  # three 500s open the circuit; the fourth run is refused without a call
        assert finished_run(b, graph_id)["status"] == "failed"
    b.goto("/models")
    breaker = page.get_by_test_id("breaker-wobbly")
    breaker.wait_for()
    assert breaker.inner_text().startswith("Open: calls skip it, probes again in")
    assert "Circuit opened" in page.get_by_test_id("events-wobbly").inner_text()
    health = page.get_by_test_id("health-wobbly").inner_text()
    assert "100%" in health  # all four calls failed
    assert "model_unavailable" in page.get_by_test_id("model-wobbly").inner_text()  # the last error
    page.get_by_test_id("model-wobbly").scroll_into_view_if_needed()
    b.screenshot("models-05-breaker-open")

    # bob is no staff member: he reads the page, his switches are disabled, and the server refuses him.
    page.get_by_role("button", name="Sign out").click()
    b.sign_in("bob", "bob-pass-123")
    b.goto("/models")
    switch = page.get_by_test_id("kill-switch-wobbly")
    switch.wait_for()
    assert switch.is_disabled() and page.get_by_test_id("edit-wobbly").count() == 0
    assert b.api("PATCH", "/api/models/wobbly/", {"enabled": False})["status"] == 403
    b.screenshot("models-06-member-view")
    assert b.errors == []
