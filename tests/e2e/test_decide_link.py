"""Deciding without the Inbox, in Chromium: a decider gets a signed one-time link from the run header, a person
with no account opens it (``/decide/<token>``), reads the draft and approves, and the run finishes; the link then
says it no longer works. And a signed-in editor decides from the run header's Decide form: a reject without a
reason is refused naming the field, a reason lets it through, and the run goes on down the ``rejected`` port."""
from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import SCREENSHOTS, Browser
from .test_approval_inbox import FLOW

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

# The inbox flow, with a rejected branch that says why, so both ports end in an output.
TWO_WAYS: dict[str, Any] = {
    **FLOW, "name": "Reviewed reply, two ways",
    "nodes": [*FLOW["nodes"], {"id": "why", "type": "transform", "config": {"value": "not sent"}}],
    "edges": [*FLOW["edges"], {"from": "review", "port": "rejected", "to": "why"}, {"from": "why", "to": "out"}],
}


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def waiting_run(b: Browser, graph_id: int, question: str) -> tuple[str, int]:
    run_id = b.api("POST", "/api/runs/", {"graph": graph_id, "input": {"q": question}})["body"]["id"]
    for _ in range(150):
        run = b.api("GET", f"/api/runs/{run_id}/")["body"]
        if run["status"] == "waiting" and run.get("waiting_for"):
            return run_id, run["waiting_for"][0]["approval"]
        assert run["status"] in ("queued", "running"), run
        b.page.wait_for_timeout(200)
    raise AssertionError("the run did not reach its approval step")


def test_a_person_without_an_account_decides_through_a_signed_link(browser: Browser) -> None:
    b = browser
    b.sign_in()
    graph_id = b.api("POST", "/api/graphs/", {"spec": FLOW})["body"]["id"]
    run_id, _ = waiting_run(b, graph_id, "Where is my parcel?")
    # The signed-in decider hands the decision on: a link from the run header, to paste into an email.
    b.goto(f"/graphs/{graph_id}/runs/{run_id}")
    b.page.locator("[data-testid=run-header][data-status=waiting]").wait_for()
    b.page.get_by_test_id("run-link-review").click()
    url = b.page.get_by_test_id("decide-link-url")
    expect(url).to_have_value(re.compile(r"/decide/"))
    expect(b.page.get_by_test_id("decide-link")).to_contain_text("without signing in")
    b.screenshot("decide-link-0-made")
    link = url.input_value()
    assert link.startswith(b.base + "/decide/")

    # A fresh browser profile: no session cookie, as someone who got the link by email would open it.
    stranger = b.page.context.browser.new_context(viewport={"width": 1024, "height": 800})
    try:
        page = stranger.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(link)
        form = page.get_by_test_id("decision-form")
        expect(form.get_by_test_id("decision-title")).to_have_text("Send this reply to the customer?")
        expect(form.get_by_test_id("decision-draft")).not_to_be_empty()
        expect(page.get_by_test_id("login-form")).to_have_count(0)
        shot(page, "decide-link-1-open")
        form.get_by_test_id("decision-draft").fill("Your parcel arrives on Tuesday.")
        form.get_by_test_id("decision-approve").click()
        expect(page.get_by_test_id("decide-done")).to_contain_text("you approved it")
        shot(page, "decide-link-2-done")

        run = b.wait_for_run(run_id)
        assert run["status"] == "succeeded" and run["output"] == "Your parcel arrives on Tuesday."
        wait_span = next(s for s in run["spans"] if s["node_id"] == "review")
        assert wait_span["attributes"]["patchbay.approval.via"] == "link"

        page.reload()  # the link was spent by the decision: it says so in words, with nothing to press
        expect(page.get_by_test_id("decide-page")).to_contain_text("no longer works")
        expect(page.get_by_test_id("decision-form")).to_have_count(0)
        shot(page, "decide-link-3-spent")
        page.goto(b.base + "/decide/not-a-real-link")
        expect(page.get_by_test_id("decide-page")).to_contain_text("not valid")
        shot(page, "decide-link-4-bad")
        assert not errors, errors
    finally:
        stranger.close()


def test_an_editor_decides_from_the_run_header(browser: Browser) -> None:
    b, page = browser, browser.page
    b.sign_in()
    graph_id = b.api("POST", "/api/graphs/", {"spec": TWO_WAYS})["body"]["id"]
    run_id, _ = waiting_run(b, graph_id, "Can I have a refund?")

    b.goto(f"/graphs/{graph_id}/runs/{run_id}")
    page.locator("[data-testid=run-header][data-status=waiting]").wait_for()
    notice = page.get_by_test_id("run-waiting-for")
    decide = notice.get_by_test_id("run-decide-review")
    decide.click()
    form = notice.get_by_test_id("decision-form")
    expect(form.get_by_test_id("decision-title")).to_have_text("Send this reply to the customer?")
    expect(page.get_by_test_id("canvas")).to_be_visible()  # the form does not push the canvas out of sight
    b.screenshot("decide-header-1-form")
    expect(decide).to_have_text("Close")  # the same button puts the form away, and opens it again
    decide.click()
    expect(notice.get_by_test_id("decision-form")).to_have_count(0)
    decide.click()
    form.get_by_test_id("decision-reject").click()  # no reason: refused beside the field
    refusal = form.get_by_text("a reason is required to reject")
    expect(refusal).to_be_visible()
    form.get_by_test_id("decision-reason").fill("We do not promise refunds by email.")
    expect(refusal).to_have_count(0)  # typing a reason clears the refusal about it
    b.screenshot("decide-header-2-reason")
    form.get_by_test_id("decision-reject").click()

    page.locator("[data-testid=run-header][data-status=succeeded]").wait_for()
    b.screenshot("decide-header-3-finished")
    run = b.wait_for_run(run_id)
    assert run["status"] == "succeeded"
    assert [s["status"] for s in run["spans"] if s["node_id"] == "why" and s["kind"] == "node"] == ["succeeded"], \
        "the rejected port ran"
    wait_span = next(s for s in run["spans"] if s["node_id"] == "review")
    assert (wait_span["attributes"]["patchbay.approval.decision"], wait_span["attributes"]["patchbay.approval.by"],
            wait_span["attributes"]["patchbay.approval.via"]) == ("reject", "alice", "canvas")
    assert not b.errors, b.errors
