"""Step forms without JSON, driven with mouse and keyboard: a router's routes in the list editor,
an output that joins the branches through the form, warnings that do not block, a subgraph opened."""
from __future__ import annotations

from typing import Any

import pytest

from .conftest import Browser
from .test_canvas import create_graph, drop, wire

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def config_of(b: Browser, node_id: str) -> dict[str, Any]:
    return b.page.evaluate(f"window.__patchbay.graph.getState().spec().nodes.find(n => n.id === '{node_id}').config")


def add_route(b: Browser, index: int, label: str, description: str, keyword: str) -> None:
    """Add a route with the keyboard: focus the Add button, Enter, then type into each of its fields."""
    page = b.page
    page.get_by_test_id("cfg-router-routes-add").focus()
    page.keyboard.press("Enter")
    page.get_by_test_id(f"cfg-router-routes.{index}.label").click()
    page.keyboard.type(label)
    page.keyboard.press("Tab")  # on to "When to take it"
    page.keyboard.type(description)
    page.get_by_test_id(f"cfg-router-routes.{index}.keywords").fill(keyword)


def test_a_router_is_built_in_the_list_editor_and_its_branches_joined_in_the_form(browser: Browser) -> None:
    b = browser
    page = b.page
    b.sign_in()
    page.get_by_test_id("new-graph").click()
    page.get_by_test_id("new-flow-name").fill("e2e-forms")
    page.get_by_test_id("template-blank").click()
    page.get_by_test_id("node-input").wait_for()
    drop(b, "router", 0.45, 0.3)
    page.get_by_test_id("node-router").click()

    # The model picker is in the form from the start, not in a section that opens on a problem.
    assert page.get_by_test_id("cfg-router-classifier.model").is_visible()
    # Replace the starter routes: remove both (the second with the keyboard), add billing and technical.
    page.get_by_test_id("cfg-router-routes.1-remove").focus()
    page.keyboard.press("Enter")
    page.get_by_test_id("cfg-router-routes.0-remove").click()
    assert page.get_by_test_id("cfg-router-routes").get_by_text("None yet").is_visible()
    add_route(b, 0, "technical", "Bugs, crashes and errors", "crash")
    add_route(b, 1, "billing", "Money: refunds, invoices, charges", "refund")
    # Billing first: move it up with the keyboard.
    page.get_by_test_id("cfg-router-routes.1-up").focus()
    page.keyboard.press("Enter")
    page.get_by_test_id("node-router").filter(has_text="3 routes: billing, technical, default").wait_for()
    routes = config_of(b, "router")["routes"]
    assert routes == [
        {"label": "billing", "description": "Money: refunds, invoices, charges", "keywords": ["refund"]},
        {"label": "technical", "description": "Bugs, crashes and errors", "keywords": ["crash"]}]

    # A bad label: the server's problem shows beside that route's label, once.
    label = page.get_by_test_id("cfg-router-routes.1.label")
    label.fill("Technical!")
    item = page.get_by_test_id("cfg-router-routes.1")
    item.get_by_test_id("field-problem").first.wait_for()
    assert page.get_by_test_id("cfg-router-routes.0").get_by_test_id("field-problem").count() == 0
    b.screenshot("20-router-list-editor-problem")
    label.fill("technical")
    item.get_by_test_id("field-problem").first.wait_for(state="detached")
    # Decide by rules (keywords), so the runs below take known routes.
    page.get_by_test_id("cfg-router-mode").select_option(label="rules")
    b.screenshot("21-router-list-editor")

    # A reply per route, each joined into the output.
    drop(b, "transform", 0.8, 0.12)
    drop(b, "transform", 0.8, 0.3)
    drop(b, "transform", 0.8, 0.85)
    for node_id, port, text in (("transform", "billing", "Refund on its way"), ("transform_2", "technical", "Try a reboot"),
                                ("transform_3", "default", "Thanks for writing")):
        page.get_by_test_id(f"node-{node_id}").wait_for()
        wire(b, "router", port, node_id)
        wire(b, node_id, "out", "output")
        page.get_by_test_id(f"node-{node_id}").click()
        page.get_by_test_id(f"cfg-{node_id}-value").fill(text)
    wire(b, "input", "out", "router")
    page.get_by_test_id("auto-layout").click()
    page.wait_for_timeout(500)  # the zoom-to-fit after tidying up is animated

    # Reading one branch plainly is a warning (amber), not a problem: the flow would still save.
    page.get_by_test_id("node-output").click()
    value = page.get_by_test_id("cfg-output-value")
    value.fill("")
    page.get_by_test_id("inspector").get_by_role("button", name="nodes.transform.output").click()
    page.get_by_test_id("inspector").get_by_test_id("field-warning").wait_for()
    bar = page.get_by_test_id("problems-bar")
    bar.filter(has_text="1 warning").wait_for()
    b.screenshot("22-join-warning")
    # "The result of whichever of these ran": tick the three replies, use it.
    page.get_by_test_id("branch-join").locator("summary").click()
    for node_id in ("transform", "transform_2", "transform_3"):
        page.get_by_test_id(f"branch-join-{node_id}").check()
    page.get_by_test_id("branch-join-apply").click()
    assert config_of(b, "output")["value"] == (
        "{{ nodes.transform.output | default(nodes.transform_2.output) | default(nodes.transform_3.output) }}")
    bar.wait_for(state="detached")
    b.screenshot("23-join-in-the-form")

    page.keyboard.press("Control+s")
    page.get_by_test_id("save-message").fill("routes joined")
    page.get_by_test_id("save-confirm").click()
    b.toast("success").filter(has_text="Saved as version 2").wait_for()

    # Each input takes its route; the output is that route's reply.
    graph_id = page.evaluate("window.__patchbay.graph.getState().graphId")
    for text, expected in (("please refund me", "Refund on its way"), ("the app crashes", "Try a reboot"),
                           ("hello there", "Thanks for writing")):
        started = b.api("POST", "/api/runs/", {"graph": graph_id, "input": {"text": text}})
        assert started["status"] in (200, 201, 202), started
        run = b.wait_for_run(started["body"]["id"])
        assert run["status"] == "succeeded" and run["output"] == expected, run
    assert not b.errors



def test_a_subgraph_step_opens_its_pinned_flow_and_an_inline_one_becomes_a_saved_flow(browser: Browser) -> None:
    b = browser
    page = b.page
    b.sign_in()
    inner = {"schema": "patchbay.graph/v1", "name": "e2e-inner", "inputs": {"type": "object", "properties": {"text": {"type": "string"}}},
             "nodes": [{"id": "input", "type": "input"}, {"id": "output", "type": "output", "config": {"value": "{{ input.text }}"}}],
             "edges": [{"from": "input", "to": "output"}]}
    outer = {"schema": "patchbay.graph/v1", "name": "e2e-outer", "inputs": inner["inputs"],
             "nodes": [{"id": "input", "type": "input"},
                       {"id": "call", "type": "subgraph", "config": {"subgraph": {"spec": {**inner, "name": "e2e-inline"}}}},
                       {"id": "output", "type": "output", "config": {"value": "{{ nodes.call.output }}"}}],
             "edges": [{"from": "input", "to": "call"}, {"from": "call", "to": "output"}]}
    outer_id = create_graph(b, outer)
    b.goto(f"/graphs/{outer_id}")
    page.get_by_test_id("node-call").click()
    page.get_by_test_id("cfg-call-subgraph-convert").click()
    b.toast("info").filter(has_text="Saved as a flow of its own").wait_for()
    pinned = config_of(b, "call")["subgraph"]["graph"]
    graphs = {g["name"]: g["id"] for g in b.api("GET", "/api/graphs/")["body"]}
    assert pinned == f"#{graphs['e2e-inline']}@1"
    page.get_by_test_id("cfg-call-subgraph.graph").wait_for()
    page.get_by_test_id("node-call").filter(has_text="runs e2e-inline · v1").wait_for()  # the card knows the new flow too
    b.screenshot("24-subgraph-pinned")
    page.keyboard.press("Control+s")
    page.get_by_test_id("save-message").fill("pinned")
    page.get_by_test_id("save-confirm").click()
    b.toast("success").filter(has_text="Saved as version 2").wait_for()
    page.get_by_test_id("cfg-call-subgraph-open").click()
    page.wait_for_url(f"**/graphs/{graphs['e2e-inline']}")
    page.get_by_text("e2e-inline").first.wait_for()
    assert not b.errors
