"""Insights in Chromium: label a run's route in its trace, then read the router confusion matrix, an advisor
finding and a cost projection on the flow's Insights page."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.insights.factory import gate, router, run, vote
from tests.insights.graphs import PATTERNS

from .conftest import PASSWORD, Browser

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

BILLING = "I was charged twice, please refund the second payment."


@pytest.fixture
def graph_with_history(live_stack: Any, alice: Any) -> int:
    """The flow, with 120 earlier runs whose vote was always unanimous (so one more, agreeing or not, keeps it
    at ≥ 99 %) (built before the browser starts: the
    ORM cannot run beside Playwright's loop)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from backend.graphs.models import Membership, Workspace
    from backend.graphs.services import graph_create
    from backend.runs.models import Run
    from tests.insights.factory import save_runs

    workspace = Workspace.objects.get(membership__user=alice)
    viewer = get_user_model().objects.create_user("vic", password=PASSWORD)
    Membership.objects.create(workspace=workspace, user=viewer, role=Membership.Role.VIEWER)
    graph = graph_create(workspace=workspace, user=alice, spec=PATTERNS)
    save_runs(graph, [run(gate("check", True), router("triage", "billing"), vote("agree", 1.0)) for _ in range(120)])
    Run.objects.filter(graph=graph).update(created_at=timezone.now() - dt.timedelta(days=1))
    return graph.pk


def open_router_step(b: Browser, graph_id: int, run_id: str) -> Any:
    b.goto(f"/graphs/{graph_id}/runs/{run_id}")
    b.page.locator("[data-testid=run-header][data-status=succeeded]").wait_for()
    b.page.get_by_test_id("node-triage").click()
    b.page.get_by_test_id("trace-view").wait_for()
    b.page.get_by_test_id("span-node-triage").click()
    return b.page.get_by_test_id("span-detail").get_by_test_id("label-panel")


def test_label_a_route_then_read_the_matrix_and_the_advice(graph_with_history: int, browser: Browser) -> None:
    from playwright.sync_api import expect

    b, page = browser, browser.page
    b.sign_in()
    dataset = b.api("POST", "/api/datasets/", {"name": "two questions"})["body"]["id"]
    for message in (BILLING, "The app crashes when I log in."):
        assert b.api("POST", f"/api/datasets/{dataset}/items/", {"input": {"message": message}})["status"] == 201
    finished = b.finished_run(graph_with_history, {"message": BILLING})
    assert finished["status"] == "succeeded", finished["error"]

    panel = open_router_step(b, graph_with_history, finished["id"])
    panel.get_by_test_id("label-route").select_option("technical")
    panel.get_by_test_id("label-verdict-fail").check()
    panel.get_by_test_id("label-comment").fill("A crash, not a refund")
    panel.get_by_test_id("label-save").click()
    panel.get_by_test_id("label-saved").wait_for()
    panel.scroll_into_view_if_needed()
    b.screenshot("insights-01-label-in-trace")

    page.get_by_test_id("open-insights").click()
    matrix = page.get_by_test_id("router-triage").get_by_test_id("confusion-matrix")
    matrix.wait_for()
    assert matrix.get_by_test_id("cell-technical-billing").inner_text() == "1"
    assert matrix.get_by_test_id("cell-billing-billing").inner_text() == "0"
    stats = page.get_by_test_id("route-stat-billing").inner_text()
    assert "121" in stats and "0 %" in stats  # 121 runs sent to billing; the one labelled belonged elsewhere
    finding = page.get_by_test_id("finding-vote_always_agrees")
    assert "vote 'agree' almost always agrees" in finding.inner_text().lower()
    assert "per 1,000 runs" in finding.inner_text()
    b.screenshot("insights-02-matrix-and-findings")

    page.get_by_test_id("projection-start").click()
    page.get_by_test_id("projection-result").wait_for(timeout=60_000)
    assert page.get_by_test_id("projection-cost").inner_text().startswith("$")
    page.get_by_test_id("projection-panel").scroll_into_view_if_needed()
    b.screenshot("insights-03-projection")
    # The same projection on a dataset's items instead of the recent runs.
    page.get_by_test_id("projection-source").select_option(f"dataset:{dataset}")
    assert "“two questions”" in page.get_by_test_id("projection-panel").inner_text()
    page.get_by_test_id("projection-start").click()
    expect(page.get_by_test_id("projection-runs")).to_have_text("2", timeout=60_000)
    b.screenshot("insights-04-projection-from-dataset")

    # A viewer reads the label and cannot change it.
    b.api("POST", "/api/session/logout/")
    b.sign_in("vic", PASSWORD)
    panel = open_router_step(b, graph_with_history, finished["id"])
    assert "technical" in panel.get_by_test_id("label-read-only").inner_text()
    assert panel.get_by_test_id("label-save").count() == 0
    assert b.errors == []
