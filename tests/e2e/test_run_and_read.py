"""Run and read: an example fills the form, tokens stream in while the run goes, the result is shown in the
Run panel, runs say where they came from, History folds versions made by runs, and Edit / Inspect decides what
a click on a step does."""
from __future__ import annotations

import json

import pytest

from .conftest import Browser, example

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def create_graph(b: Browser, spec: dict) -> int:
    response = b.api("POST", "/api/graphs/", {"spec": spec, "message": "from the test"})
    assert response["status"] == 201, response
    return response["body"]["id"]


def test_use_an_example_watch_tokens_stream_and_read_the_result(browser: Browser) -> None:
    b, page = browser, browser.page
    b.sign_in()
    spec = example("routing")
    graph_id = create_graph(b, spec)
    b.goto(f"/graphs/{graph_id}")
    page.get_by_test_id("tab-run").click()
    page.get_by_test_id("run-use-example").click()
    message = spec["inputs"]["examples"][0]["message"]
    assert page.get_by_test_id("run-input-message").input_value() == message
    page.get_by_test_id("run-start").click()

    # Mid-run: the reply step's tokens appear on its card and in the Run panel before the run ends.
    streamed = page.get_by_test_id("stream-billing_reply")
    streamed.wait_for()
    live_text = page.get_by_test_id("run-stream").first.inner_text()
    assert live_text.strip()
    assert page.get_by_test_id("run-header").get_attribute("data-status") == "running"
    b.screenshot("run-read-01-streaming")

    page.locator("[data-testid=run-header][data-status=succeeded]").wait_for()
    result = page.get_by_test_id("run-result")
    result.wait_for()
    run_id = page.evaluate("window.__patchbay.run.getState().runId")
    output = b.api("GET", f"/api/runs/{run_id}/")["body"]["output"]
    shown = result.get_by_test_id("run-result-text").inner_text()
    expected = output if isinstance(output, str) else json.dumps(output, indent=2)
    assert shown.strip() == expected.strip() and shown.strip()
    assert live_text.strip()[:20] in json.dumps(output), "what streamed is what the step answered"
    header = page.get_by_test_id("run-header").inner_text()
    assert "-" not in header.split("$")[0], "no negative duration"
    result.get_by_test_id("run-result-copy").click()
    b.toast("success").filter(has_text="Copied").wait_for()
    b.screenshot("run-read-02-result")

    # The runs list says when, from where, with what; re-running is a replay.
    page.get_by_test_id("tab-runs").click()
    row = page.get_by_test_id("run-row").first
    row.wait_for()
    assert row.get_attribute("data-source") == "canvas"
    assert row.get_by_test_id("run-source").inner_text() == "canvas"
    assert message[:30] in row.get_by_test_id("run-input-preview").inner_text()
    rerun = row.get_by_test_id("run-rerun")
    box, panel = rerun.bounding_box(), page.get_by_test_id("runs-panel").bounding_box()
    assert box["x"] + box["width"] <= panel["x"] + panel["width"] + 1, "the Re-run button is not clipped"
    rerun.click()
    page.wait_for_function(f"window.__patchbay.run.getState().runId !== {json.dumps(run_id)}")
    page.locator("[data-testid=run-header][data-status=succeeded]").wait_for()
    page.get_by_test_id("run-result").wait_for()  # a re-run shows its result in the Run panel too
    page.get_by_test_id("tab-runs").click()
    page.locator("[data-testid=run-row][data-source=replay]").wait_for()
    b.screenshot("run-read-03-runs")
    assert not b.errors


def test_edit_or_inspect_decides_what_a_click_on_a_step_opens(browser: Browser) -> None:
    b, page = browser, browser.page
    b.sign_in()
    graph_id = create_graph(b, example("routing"))
    b.goto(f"/graphs/{graph_id}")
    page.get_by_test_id("tab-run").click()
    page.get_by_test_id("run-use-example").click()
    page.get_by_test_id("run-start").click()
    page.locator("[data-testid=run-header][data-status=succeeded]").wait_for()
    assert page.get_by_test_id("mode-toggle").get_attribute("data-mode") == "inspect"

    page.get_by_test_id("node-triage").click()
    page.get_by_test_id("span-detail").wait_for()
    page.get_by_test_id("mode-edit").click()
    page.get_by_test_id("node-billing_reply").click()
    assert page.get_by_test_id("tab-edit").inner_text() == "Step"
    assert page.get_by_test_id("tab-edit").get_attribute("aria-selected") == "true"
    b.screenshot("run-read-04-edit-mode")

    # Another step's settings start at the top, not where the last step's were scrolled to.
    body = page.get_by_test_id("side-body")
    body.evaluate("(el) => { el.scrollTop = el.scrollHeight; }")
    assert body.evaluate("(el) => el.scrollTop") > 0
    page.get_by_test_id("node-triage").click()
    page.wait_for_function("document.querySelector('[data-testid=side-body]').scrollTop === 0")
    assert not b.errors


def test_history_folds_versions_made_by_runs_and_examples_can_be_picked(browser: Browser) -> None:
    b, page = browser, browser.page
    b.sign_in()
    spec = example("production_system")
    graph_id = create_graph(b, spec)
    for words in ("one", "two"):
        changed = json.loads(json.dumps(spec))
        changed["description"] = f"changed {words}"
        assert b.api("PUT", f"/api/graphs/{graph_id}/", {"spec": changed, "reason": "run"})["status"] == 201
    changed["description"] = "saved on purpose"
    assert b.api("PUT", f"/api/graphs/{graph_id}/", {"spec": changed, "message": "On purpose"})["status"] == 201
    b.goto(f"/graphs/{graph_id}")

    # The inline subgraph reads as a flow, with a way to open it.
    page.locator("[data-testid=node-qa]", has_text="runs its own flow “qa-chain”").wait_for()
    page.get_by_test_id("open-subgraph-qa").wait_for()

    page.get_by_test_id("tab-history").click()
    fold = page.get_by_test_id("version-fold")
    fold.wait_for()
    assert "2 versions made by runs" in fold.inner_text()
    assert page.get_by_test_id("version-2").count() == 0, "folded until opened"
    fold.get_by_test_id("version-fold-toggle").click()
    assert page.get_by_test_id("version-2").get_attribute("data-reason") == "run"
    assert page.get_by_test_id("version-4").get_attribute("data-reason") == "save"
    b.screenshot("run-read-05-history")

    page.get_by_test_id("tab-run").click()
    page.get_by_test_id("run-example-pick").select_option("1")
    page.get_by_test_id("run-use-example").click()
    assert page.get_by_test_id("run-input-request").input_value() == spec["inputs"]["examples"][1]["request"]
    assert not b.errors
