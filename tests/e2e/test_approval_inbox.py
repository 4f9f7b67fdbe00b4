"""A person in the loop, in Chromium: a run stops at an approval step (the canvas marks it, the header says
who must decide), the signed-in person finds it in the Inbox, edits the draft and approves, and the run
finishes with the edited text."""
from __future__ import annotations

import pytest

from .conftest import Browser

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

FLOW = {
    "schema": "patchbay.graph/v1", "name": "Reviewed reply", "inputs": {"type": "object"},
    "nodes": [{"id": "in", "type": "input"},
              {"id": "draft", "type": "llm", "config": {"model": "fast", "prompt": "Reply to: {{ input.q }}"}},
              {"id": "review", "type": "approval", "config": {"title": "Send this reply to the customer?",
                                                              "show": "{{ nodes.draft.output }}"}},
              {"id": "out", "type": "output", "config": {"value": "{{ nodes.review.output }}"}}],
    "edges": [{"from": "in", "to": "draft"}, {"from": "draft", "to": "review"},
              {"from": "review", "port": "approved", "to": "out"}],
}


def test_decide_from_the_inbox_and_watch_the_run_finish(browser: Browser) -> None:
    b, page = browser, browser.page
    b.sign_in()
    graph_id = b.api("POST", "/api/graphs/", {"spec": FLOW})["body"]["id"]
    run_id = b.api("POST", "/api/runs/", {"graph": graph_id, "input": {"q": "Where is my parcel?"}})["body"]["id"]

    b.goto(f"/graphs/{graph_id}/runs/{run_id}")
    page.locator("[data-testid=run-header][data-status=waiting]").wait_for()
    page.locator("[data-testid=node-review][data-status=waiting]").wait_for()
    assert "Editors and admins" in page.get_by_test_id("run-waiting-for").inner_text()
    b.screenshot("approval-01-canvas-waiting")
    page.get_by_test_id("tab-runs").click()  # the Runs list says it waits, and for whom
    assert "Editors and admins" in page.get_by_test_id("run-waiting-who").first.inner_text()

    page.get_by_test_id("pages-menu").click()
    page.get_by_test_id("menu-inbox-link").click()
    inbox = page.get_by_test_id("inbox-page")
    inbox.wait_for()
    item = inbox.locator("[data-testid^=inbox-item-]")
    item.first.wait_for()
    assert item.count() == 1 and "send this reply to the customer?" in item.inner_text().lower()
    b.screenshot("approval-02-inbox")

    reject = item.get_by_test_id("decision-reject")
    reject.click()  # no reason: refused, with the field named
    item.get_by_text("a reason is required to reject").wait_for()
    draft = item.get_by_test_id("decision-draft")
    draft.fill("Your parcel arrives on Tuesday. Sorry for the wait!")
    approve = item.get_by_test_id("decision-approve")
    assert approve.inner_text() == "Approve with my edits"
    b.screenshot("approval-03-edited")
    approve.click()
    page.get_by_test_id("inbox-decided").wait_for()
    page.get_by_test_id("inbox-empty").wait_for()

    b.goto(f"/graphs/{graph_id}/runs/{run_id}")
    page.locator("[data-testid=run-header][data-status=succeeded]").wait_for()
    run = b.wait_for_run(run_id)
    assert run["status"] == "succeeded" and run["output"] == "Your parcel arrives on Tuesday. Sorry for the wait!"
    wait_span = next(s for s in run["spans"] if s["node_id"] == "review")
    assert wait_span["attributes"]["patchbay.approval.by"] == "alice" and wait_span["attributes"]["patchbay.approval.edited"]
    b.screenshot("approval-04-finished")
    assert not b.errors, b.errors
