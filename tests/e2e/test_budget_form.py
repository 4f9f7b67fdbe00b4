"""A flow's budget set on the canvas, not in JSON: a bad limit is pinned beside its box, a tiny cost limit is
saved in the version, and a run of it stops at the budget, saying why in plain words."""
from __future__ import annotations

import pytest

from .conftest import Browser, example
from .test_run_and_read import create_graph

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

NOTE = "Order 7781 arrived broken and the invoice charged me twice; please refund one charge."


def test_a_tiny_cost_budget_set_in_the_form_stops_the_run_with_the_reason(browser: Browser) -> None:
    b, page = browser, browser.page
    b.sign_in()
    spec = example("chain")
    del spec["budget"]  # no budget yet: the test sets one in the form
    graph_id = create_graph(b, spec)
    b.goto(f"/graphs/{graph_id}")
    page.get_by_test_id("tab-edit").click()
    form = page.get_by_test_id("budget-form")
    cost = page.get_by_test_id("cfg-flow-budget-max_cost_usd")
    assert cost.input_value() == ""  # an empty box is no limit

    # Zero is refused by the server; the problem sits beside the cost box, in plain words, and saving says so.
    cost.click()
    page.keyboard.type("0")
    problem = form.get_by_test_id("field-problem").filter(has_text="must be more than 0")
    problem.wait_for()
    assert "invalid" in (cost.get_attribute("class") or "")
    b.screenshot("budget-01-zero-refused")

    # A tiny limit: a millionth of a dollar, less than any model call of this flow costs.
    page.keyboard.press("End")
    page.keyboard.type(".000001")
    problem.wait_for(state="detached")
    page.get_by_test_id("cfg-flow-budget-max_llm_calls").click()
    page.keyboard.type("5")
    page.keyboard.press("Control+s")
    page.get_by_test_id("save-message").fill("A budget per run")
    page.get_by_test_id("save-confirm").click()
    b.toast("success").filter(has_text="Saved as version 2").wait_for()
    saved = b.api("GET", f"/api/graphs/{graph_id}/")["body"]
    assert saved["latest_version"]["number"] == 2, saved
    assert saved["spec"]["budget"] == {"max_cost_usd": 0.000001, "max_llm_calls": 5}, saved["spec"]
    b.screenshot("budget-02-saved")

    # Run it: the header shows use against the limits; the run stops at the budget and says why in words.
    page.get_by_test_id("tab-run").click()
    page.get_by_test_id("run-input-text").click()
    page.keyboard.type(NOTE)
    page.get_by_test_id("run-start").click()
    header = page.locator("[data-testid=run-header][data-status=budget_exceeded]")
    header.wait_for()
    assert header.get_by_test_id("run-status").inner_text() == "Over budget"
    assert "of $0.000001" in header.get_by_test_id("run-cost").inner_text()
    reason = page.get_by_test_id("run-error").inner_text()
    assert reason.startswith("Stopped at the budget: "), reason
    assert "cost limit of $0.000001" in reason and "max_cost_usd" not in reason, reason
    # The Run panel and the step's card say it the same way.
    result = page.get_by_test_id("run-failure").inner_text()
    assert "went over its budget" in result and "cost limit of $0.000001" in result and "max_cost_usd" not in result
    assert "cost limit of $0.000001" in page.get_by_test_id("node-extract").inner_text()
    # The engine's own words stay one hover away, for whoever debugs it.
    assert "max_cost_usd=1e-06" in (page.get_by_test_id("run-error").get_attribute("title") or "")
    b.screenshot("budget-03-stopped")

    run_id = page.evaluate("window.__patchbay.run.getState().runId")
    run = b.wait_for_run(run_id)
    assert run["status"] == "budget_exceeded" and run["version"] == 2, run
    assert run["totals"]["cost_usd"] <= 0.000001, run["totals"]  # stopped before a call could pass the limit
    assert b.errors == []
