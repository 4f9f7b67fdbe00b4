"""The product manager's journey, end to end in Chromium, with mouse and keyboard only (no JSON typed, no API
called by the person): build a router flow on a blank canvas, join its branches in the form, save, run two
inputs that take different routes and watch their tokens stream, publish, make a key, call the flow with the
copied curl snippet over real HTTP, find that call in Runs, roll back and unpublish.

The test reads the API only to check what the person saw. A screenshot per step lands in
test-artifacts/screenshots/journey-*.png; any console or page error fails the test.
"""
from __future__ import annotations

import pytest

from .conftest import Browser
from .test_canvas import drop, wire
from .test_forms import add_route
from .test_publish import copy as copied
from .test_publish import run_snippet as run_curl

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

SLUG = "support-desk"
REPLIES = {  # step → (route it answers, its prompt)
    "step": ("billing", "You answer billing questions. Reply in one friendly sentence to: {{ input.text }}"),
    "step_2": ("technical", "You fix technical problems. Reply in one short sentence to: {{ input.text }}"),
    "step_3": ("default", "Thank the customer and say a person will reply soon. Their note: {{ input.text }}"),
}


def build_the_router_flow(b: Browser) -> None:
    page = b.page
    page.get_by_test_id("new-graph").click()
    page.get_by_test_id("new-flow-name").fill("Support desk")
    page.get_by_test_id("template-blank").click()
    page.get_by_test_id("node-input").wait_for()
    drop(b, "router", 0.42, 0.45)
    page.get_by_test_id("node-router").click()
    # The starter routes go; billing and technical come in through the list editor.
    page.get_by_test_id("cfg-router-routes.1-remove").click()
    page.get_by_test_id("cfg-router-routes.0-remove").click()
    add_route(b, 0, "billing", "Money: refunds, invoices, charges", "refund")
    add_route(b, 1, "technical", "Bugs, crashes and errors", "crash")
    page.get_by_test_id("cfg-router-mode").select_option(label="rules")
    page.get_by_test_id("node-router").filter(has_text="3 routes (by rules): billing, technical, default").wait_for()
    b.screenshot("journey-02-router-routes")

    for (node_id, (route, prompt)), y in zip(REPLIES.items(), (0.12, 0.45, 0.82)):
        drop(b, "llm", 0.72, y)
        page.get_by_test_id(f"node-{node_id}").wait_for()
        page.get_by_test_id(f"node-{node_id}").click()
        page.get_by_test_id(f"cfg-{node_id}-prompt").fill(prompt)
        wire(b, "router", route, node_id)
        wire(b, node_id, "out", "output")
    wire(b, "input", "out", "router")
    page.get_by_test_id("auto-layout").click()
    page.wait_for_timeout(500)  # the zoom-to-fit after tidying up is animated
    b.screenshot("journey-03-steps-wired")

    # The output: "the result of whichever of these ran", ticked in the form.
    page.get_by_test_id("node-output").click()
    page.get_by_test_id("branch-join").locator("summary").click()
    for node_id in REPLIES:
        page.get_by_test_id(f"branch-join-{node_id}").check()
    page.get_by_test_id("branch-join-apply").click()
    page.get_by_test_id("node-output").filter(has_text="whichever ran").wait_for()
    assert page.get_by_test_id("problems-bar").count() == 0, page.get_by_test_id("problems-bar").inner_text()
    b.screenshot("journey-04-output-joins-branches")

    page.keyboard.press("Control+s")
    page.get_by_test_id("save-message").fill("Support desk: two routes and a default")
    page.get_by_test_id("save-confirm").click()
    b.toast("success").filter(has_text="Saved as version 2").wait_for()


# Keeps, at every update of the page's run store, the route step's streamed text while the run is still going:
# reading the header after the stream shows up raced the run's end (a short answer can finish in between).
WATCH_STREAM = """(step) => {
  window.__pbUnwatch?.();
  window.__pbStreamed = "";
  window.__pbUnwatch = window.__patchbay.run.subscribe((s) => {
    const text = s.nodes?.[step]?.text;
    if (s.status === "running" && text) window.__pbStreamed = text;
  });
}"""


def run_and_read(b: Browser, text: str, route_step: str, shot: str) -> str:
    """Run one input from the Run panel; its route's tokens stream before the end; the result is shown."""
    page = b.page
    page.get_by_test_id("tab-run").click()
    page.get_by_test_id("run-input-text").fill(text)
    page.evaluate(WATCH_STREAM, route_step)
    page.get_by_test_id("run-start").click()
    page.get_by_test_id(f"stream-{route_step}").wait_for()
    b.screenshot(f"{shot}-streaming")
    page.locator("[data-testid=run-header][data-status=succeeded]").wait_for()
    streamed = page.evaluate("window.__pbStreamed").strip()
    assert streamed, "tokens are visible while the run goes"
    shown = page.get_by_test_id("run-result").get_by_test_id("run-result-text").inner_text().strip()
    b.screenshot(f"{shot}-result")
    run_id = page.evaluate("window.__patchbay.run.getState().runId")
    run = b.api("GET", f"/api/runs/{run_id}/")["body"]
    assert shown == run["output"].strip() and shown, (shown, run["output"])
    assert streamed[:15] in run["output"], "what streamed is what the flow returned"
    ran = {s["node_id"] for s in run["spans"] if s["kind"] == "node" and s["status"] == "succeeded"}
    assert route_step in ran and not (set(REPLIES) - {route_step}) & ran, ran
    return shown


def test_a_product_manager_builds_runs_publishes_and_calls_a_router_flow(browser: Browser) -> None:
    from playwright.sync_api import expect

    b, page = browser, browser.page
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=b.base)
    b.sign_in()
    b.screenshot("journey-01-signed-in")
    build_the_router_flow(b)

    billing = run_and_read(b, "Please refund the second charge on my card", "step", "journey-05-billing")
    technical = run_and_read(b, "The app crashes when I open settings", "step_2", "journey-06-technical")
    assert billing != technical

    # Publish the saved version from the editor.
    page.get_by_test_id("publish").click()
    dialog = page.get_by_test_id("publish-dialog")
    dialog.get_by_test_id("publish-slug").fill(SLUG)
    dialog.get_by_test_id("publish-submit").click()
    expect(page.get_by_test_id("live-version")).to_have_text("Live: v2")
    dialog.get_by_test_id("snippet-tab-curl").click()
    curl = copied(b, "copy-snippet")
    assert f"/flows/{SLUG}/run" in curl and "$PATCHBAY_API_KEY" in curl
    b.screenshot("journey-07-published")

    # A key for the calling software, copied once.
    dialog.get_by_test_id("create-api-key-link").click()
    page.get_by_test_id("api-keys-page").wait_for()
    page.get_by_test_id("api-key-name").fill("helpdesk app")
    page.get_by_test_id("api-key-create").click()
    key = copied(b, "copy-api-key")
    assert key.startswith("pbk_") and key == page.get_by_test_id("api-key-secret").inner_text()
    b.screenshot("journey-08-key")
    page.get_by_test_id("api-key-secret-done").click()

    status, body = run_curl(curl, key)
    assert status == 200 and body["status"] == "succeeded" and body["output"], body

    # The call is in the flow's Runs, marked as coming from the endpoint.
    page.get_by_test_id("endpoints-link").click()
    row = page.get_by_test_id("endpoint-row")
    expect(row.get_by_test_id("endpoint-calls")).to_have_text("1")
    row.get_by_role("link", name="Support desk").click()
    page.get_by_test_id("tab-runs").click()
    endpoint_row = page.locator("[data-testid=run-row][data-source=endpoint]")
    expect(endpoint_row).to_have_count(1)
    assert endpoint_row.get_by_test_id("run-source").inner_text() == "endpoint"
    expect(page.locator("[data-testid=run-row][data-source=canvas]")).to_have_count(2)
    b.screenshot("journey-09-runs-with-endpoint-call")

    # A change goes live as v3, then is rolled back to v2.
    page.get_by_test_id("node-step_3").click()
    page.get_by_test_id("cfg-step_3-prompt").fill("Say thanks, briefly. Note: {{ input.text }}")
    page.keyboard.press("Control+s")
    page.get_by_test_id("save-message").fill("shorter thanks")
    page.get_by_test_id("save-confirm").click()
    b.toast("success").filter(has_text="Saved as version 3").wait_for()
    expect(page.get_by_test_id("live-version")).to_have_text("Live: v2 · v3 not published")
    page.get_by_test_id("publish").click()
    page.get_by_test_id("publish-dialog").get_by_test_id("publish-submit").click()
    expect(page.get_by_test_id("live-version")).to_have_text("Live: v3")
    page.keyboard.press("Escape")
    page.get_by_test_id("live-version").click()
    page.get_by_test_id("menu-rollback").click()
    page.get_by_test_id("confirm-yes").click()
    expect(page.get_by_test_id("live-version")).to_have_text("Live: v2 · v3 not published")
    b.screenshot("journey-10-rolled-back")
    status, body = run_curl(curl, key)
    assert status == 200, body
    assert body["version"] == 2, body

    # Unpublished: the next call is a 404.
    page.get_by_test_id("publish").click()
    page.get_by_test_id("publish-unpublish").click()
    page.get_by_test_id("confirm-yes").click()
    expect(page.get_by_test_id("endpoint-off")).to_be_visible()
    status, body = run_curl(curl, key)
    assert status == 404, body
    b.screenshot("journey-11-unpublished")
    assert not console_errors and not b.errors, (console_errors, b.errors)
