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


# A help desk whose technical route answers on the dear model; a rules router, so every crash takes that route.
HELP_DESK = {"schema": "patchbay.graph/v1", "name": "help desk", "inputs": {"type": "object"}, "nodes": [
    {"id": "input", "type": "input", "position": [0, 100]},
    {"id": "triage", "type": "router", "position": [240, 100], "config": {
        "mode": "rules", "input": "{{ input.q }}", "routes": [{"label": "technical", "keywords": ["crash"]}]}},
    {"id": "fix", "type": "llm", "position": [480, 0], "config": {
        "model": "frontier", "prompt": "Help the customer fix this.\n\nMessage:\n{{ input.q }}"}},
    {"id": "thanks", "type": "transform", "position": [480, 200], "config": {"value": "Thanks, we are on it."}},
    {"id": "output", "type": "output", "position": [720, 100], "config": {
        "value": "{% if 'fix' in nodes %}{{ nodes.fix.output }}{% else %}{{ nodes.thanks.output }}{% endif %}"}}],
    "edges": [{"from": "input", "to": "triage"}, {"from": "triage", "port": "technical", "to": "fix"},
              {"from": "triage", "port": "default", "to": "thanks"}, {"from": "fix", "to": "output"},
              {"from": "thanks", "to": "output"}]}
MENTIONS_CRASH = [{"type": "contains", "text": "crash"}]


@pytest.fixture
def help_desk(live_stack: Any, alice: Any) -> tuple[int, int]:
    """The flow, a held-out set of 22 crash reports and 3 other questions, and a day of traffic in which 12 of
    48 runs took the technical route (built before the browser starts)."""
    from django.utils import timezone

    from backend.evals.models import Dataset, DatasetItem
    from backend.graphs.models import Workspace
    from backend.graphs.services import graph_create
    from backend.runs.models import Run
    from tests.insights.factory import save_runs

    workspace = Workspace.objects.get(membership__user=alice)
    graph = graph_create(workspace=workspace, user=alice, spec=HELP_DESK)
    dataset = Dataset.objects.create(workspace=workspace, name="held-out tickets", held_out=True)
    DatasetItem.objects.bulk_create(
        [DatasetItem(dataset=dataset, input={"q": f"The app crashes when I open screen {n}"}) for n in range(22)]
        + [DatasetItem(dataset=dataset, input={"q": f"Where is invoice {n}?"}) for n in range(3)])
    save_runs(graph, [run(router("triage", "technical")) for _ in range(12)]
              + [run(router("triage", "default")) for _ in range(36)])
    Run.objects.filter(graph=graph).update(created_at=timezone.now() - dt.timedelta(days=1))
    return graph.pk, dataset.pk


def test_try_a_cheaper_model_for_a_route_then_read_the_advice(help_desk: tuple[int, int], browser: Browser) -> None:
    from .test_evals import wait_eval

    graph_id, dataset_id = help_desk
    b, page = browser, browser.page
    b.sign_in()
    # The flow as it is, measured on the held-out set (the eval a published flow gets by itself).
    baseline = b.api("POST", "/api/evals/", {"dataset": dataset_id, "graph": graph_id, "scorers": MENTIONS_CRASH})
    assert baseline["status"] == 201, baseline
    assert wait_eval(b, baseline["body"]["id"])["status"] == "succeeded"
    b.goto(f"/insights/{graph_id}")
    page.get_by_test_id("router-triage").wait_for()
    assert page.get_by_test_id("finding-cheaper_route_alias").count() == 0, "no eval has tried another model yet"

    # The same set, with the technical route's step on the cheaper model, started from the dataset's page.
    b.goto(f"/datasets/{dataset_id}")
    page.get_by_test_id("dataset-start-eval").click()
    page.get_by_test_id("start-eval").wait_for()
    page.get_by_test_id("eval-graph").select_option(str(graph_id))
    page.get_by_test_id("eval-model-step").select_option("fix")
    assert "fix (now frontier)" in page.get_by_test_id("eval-model-step").inner_text()
    page.get_by_test_id("eval-model-alias").select_option("fast")
    page.get_by_test_id("scorer-exact").uncheck()
    page.get_by_test_id("scorer-contains").check()
    page.get_by_test_id("scorer-contains-setting").fill("crash")
    b.screenshot("insights-05-try-another-model")
    page.get_by_test_id("eval-start").click()
    page.locator("[data-testid=eval-result][data-status=succeeded]").wait_for(timeout=90_000)
    assert "with fast for step fix (instead of frontier)" in page.locator("h1").inner_text()
    assert page.get_by_test_id("eval-pass-rate").inner_text() == "88.0 %"  # 22 of 25: the others do not say crash
    b.screenshot("insights-06-model-eval-result")

    # The advisor reads both evals: the cheaper model answers the route as well, and says what it saves.
    b.goto(f"/insights/{graph_id}")
    finding = page.get_by_test_id("finding-cheaper_route_alias")
    finding.wait_for()
    text = finding.inner_text()
    assert finding.locator("h3").text_content() == "Route 'technical' could use 'fast'"
    assert "Switch step 'fix' to 'fast'" in text
    assert "pass rate 100 % with fast against 100 % with frontier, on the 22 held-out items" in text
    assert "up to 1 point lower" in text, "no eval policy: the advisor's own tolerance"
    assert "12 of 48 runs took this route" in text and "per 1,000 runs with fast" in text
    finding.scroll_into_view_if_needed()
    b.screenshot("insights-07-cheaper-model-finding")
    assert b.errors == []
