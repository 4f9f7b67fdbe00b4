"""Evals in Chromium: add a run to a dataset from its trace, start an eval and watch its progress, open the
comparison of two evals."""
from __future__ import annotations

import time
from typing import Any

import pytest

from .conftest import Browser

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

SPEC = {"schema": "patchbay.graph/v1", "name": "echo", "inputs": {"type": "object"},
        "nodes": [{"id": "input", "type": "input", "position": [0, 0]},
                  {"id": "say", "type": "llm", "position": [240, 0],
                   "config": {"model": "fast", "prompt": "Say something kind about {{ input.topic }}"}},
                  {"id": "output", "type": "output", "position": [480, 0], "config": {"value": "{{ nodes.say.output }}"}}],
        "edges": [{"from": "input", "to": "say"}, {"from": "say", "to": "output"}]}


def wait_eval(b: Browser, eval_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = b.api("GET", f"/api/evals/{eval_id}/")["body"]
        if found["status"] != "running":
            return found
        time.sleep(0.3)
    raise AssertionError("the eval did not finish")


def test_add_a_run_from_its_trace_run_an_eval_and_compare(browser: Browser) -> None:
    b, page = browser, browser.page
    b.sign_in()
    graph_id = b.api("POST", "/api/graphs/", {"spec": SPEC})["body"]["id"]
    runs = [b.finished_run(graph_id, {"topic": t}) for t in ("tides", "owls", "bread")]
    assert all(r["status"] == "succeeded" for r in runs)

    # A dataset, made on the Datasets page.
    b.goto("/datasets")
    page.get_by_test_id("dataset-name").fill("kind words")
    page.get_by_test_id("dataset-create").click()
    page.get_by_test_id("dataset-detail").wait_for()
    dataset_id = int(page.url.rstrip("/").split("/")[-1])

    # From the trace of a finished run: one click on the dataset's name.
    b.goto(f"/graphs/{graph_id}/runs/{runs[0]['id']}")
    page.locator("[data-testid=run-header][data-status=succeeded]").wait_for()
    page.get_by_test_id("node-say").click()
    page.get_by_test_id("trace-view").wait_for()
    page.get_by_test_id("add-to-dataset").click()
    page.get_by_test_id(f"add-to-dataset-{dataset_id}").click()
    b.toast("success").wait_for()
    assert "kind words" in b.toast("success").inner_text()
    b.screenshot("evals-01-added-from-trace")
    for run in runs[1:]:
        assert b.api("POST", f"/api/datasets/{dataset_id}/add-run/", {"run": run["id"]})["status"] == 201
    b.goto(f"/datasets/{dataset_id}")
    page.get_by_test_id("dataset-items").wait_for()
    assert page.get_by_test_id("dataset-item").count() == 3
    # Sample a share of the flow's live endpoint calls into it.
    page.get_by_test_id("sampling-graph").select_option(str(graph_id))
    page.get_by_test_id("sampling-rate").fill("25")
    page.get_by_test_id("sampling-save").click()
    b.toast("success").wait_for()
    page.get_by_text("Now: 25 % of echo").wait_for()
    assert b.api("GET", f"/api/datasets/{dataset_id}/")["body"]["sampling"] == [{"graph": graph_id, "rate": 0.25}]
    b.screenshot("evals-02-dataset")

    # Start an eval from the page and watch it fill up.
    page.get_by_test_id("dataset-start-eval").click()
    page.get_by_test_id("start-eval").wait_for()
    page.get_by_test_id("eval-graph").select_option(str(graph_id))
    page.get_by_test_id("scorer-latency").check()
    b.screenshot("evals-03a-start")
    page.get_by_test_id("eval-start").click()
    page.get_by_test_id("eval-result").wait_for()
    page.get_by_test_id("eval-progress").wait_for()
    b.screenshot("evals-03-progress")
    page.locator("[data-testid=eval-result][data-status=succeeded]").wait_for(timeout=60000)
    page.get_by_test_id("eval-summary").wait_for()
    assert page.get_by_test_id("eval-pass-rate").inner_text() == "100.0 %"
    assert page.get_by_test_id("eval-item").count() == 3
    b.screenshot("evals-04-results")
    first = page.url.rstrip("/").split("/")[-1]

    # A second eval of the same flow, then the comparison: every item the same.
    second = b.api("POST", "/api/evals/", {"dataset": dataset_id, "graph": graph_id,
                                           "scorers": [{"type": "exact"}, {"type": "latency", "max_ms": 5000}]})
    assert second["status"] == 201, second
    wait_eval(b, second["body"]["id"])
    b.goto(f"/evals/{second['body']['id']}")
    page.get_by_test_id("eval-compare-with").select_option(first)
    page.get_by_test_id("compare-view").wait_for()
    assert page.get_by_test_id("compare-ties").inner_text() == "3"
    assert page.get_by_test_id("compare-item").count() == 3
    b.screenshot("evals-05-compare")
    assert not b.errors, b.errors
