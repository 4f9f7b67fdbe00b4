"""Find runs with the Runs panel's filters, and see and set the workspace's monthly spend cap, in Chromium."""
from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from ..endpoint_calls import record_endpoint_call
from .conftest import Browser

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

SPEC = {"schema": "patchbay.graph/v1", "name": "searchable",
        "nodes": [{"id": "in", "type": "input"}, {"id": "out", "type": "output", "config": {"value": "done"}}],
        "edges": [{"from": "in", "to": "out"}]}


@pytest.fixture
def past_runs(alice) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Finished runs from several places (made before the browser starts: the ORM stays out of its loop)."""
    from backend.graphs.services import graph_create, workspace_for_user
    from backend.runs.models import Run

    workspace = workspace_for_user(alice)
    graph = graph_create(workspace=workspace, user=alice, spec=SPEC)
    version = graph.versions.get()

    def run(request_id: str = "", **fields: Any) -> str:
        row = Run.objects.create(workspace=workspace, graph=graph, graph_version=version, input={},
                                 trace_id=uuid.uuid4().hex, created_by=alice, **fields)
        if request_id:
            record_endpoint_call(row.pk, request_id=request_id)
        return str(row.pk)

    made = {"canvas": run(source="canvas", status="succeeded", cost_usd=0.3),
            "failed": run(source="endpoint", status="failed", request_id="order-7781",
                          error="The model timed out after 30 s", cost_usd=0.2),
            "openai": run(source="openai", status="succeeded", request_id="chat-1", cost_usd=0.4)}
    workspace.monthly_cap_usd = 1
    workspace.save(update_fields=["monthly_cap_usd"])
    return {"graph": graph.pk, "workspace": workspace.pk, **made}


def shown(b: Browser) -> set[str]:
    """The sources of the rows listed now (read in one go: the list re-renders as filters apply)."""
    return set(b.page.evaluate("[...document.querySelectorAll('[data-testid=run-row]')].map((r) => r.dataset.source)"))


def shows(b: Browser, sources: set[str]) -> bool:
    """Whether the list settles on exactly these runs (filters apply after a typing pause, so wait for it)."""
    deadline = time.monotonic() + 10
    while shown(b) != sources and time.monotonic() < deadline:
        b.page.wait_for_timeout(100)
    return shown(b) == sources


def test_filter_the_runs_panel_then_cap_the_months_spend(past_runs, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    b, page = browser, browser.page
    b.sign_in()
    b.goto(f"/graphs/{past_runs['graph']}")
    page.get_by_test_id("tab-runs").click()
    assert shows(b, {"canvas", "endpoint", "openai"}), shown(b)
    page.get_by_test_id("run-filter-source").select_option("openai")
    assert shows(b, {"openai"}), shown(b)
    page.get_by_test_id("run-filter-source").select_option("")
    page.get_by_test_id("run-filter-text").fill("TIMED OUT")  # the error text, any case
    assert shows(b, {"endpoint"}), shown(b)
    b.screenshot("runs-search-01-error-text")
    page.get_by_test_id("run-filter-text").fill("order-77")  # part of a request id
    assert shows(b, {"endpoint"}), shown(b)
    page.get_by_test_id("run-filter-status").select_option("succeeded")
    page.get_by_test_id("runs-empty").wait_for()
    assert "No run matches" in page.get_by_test_id("runs-empty").inner_text()
    page.get_by_test_id("run-filter-text").fill("")
    assert shows(b, {"canvas", "openai"}), shown(b)

    # $0.90 of a $1 cap: past the 80% warning; lowering the cap to $0.50 refuses the next run.
    b.goto("/members")
    words = page.get_by_test_id("spend-words")
    words.wait_for()
    assert words.inner_text() == "$0.90 of $1.00 this month (90%)"
    page.get_by_test_id("spend-warning").wait_for()
    page.get_by_test_id("spend-cap-input").fill("0.5")
    page.get_by_test_id("spend-cap-save").click()
    b.toast("success").filter(has_text="Monthly cap set to $0.50").wait_for()
    page.get_by_test_id("spend-reached").wait_for()
    refused = b.api("POST", "/api/runs/", {"graph": past_runs["graph"], "input": {}})
    assert refused["status"] == 429 and refused["body"]["error"] == "workspace_spend_cap"
    page.reload()
    assert "1 run refused" in page.get_by_test_id("spend-refused").inner_text()
    b.screenshot("spend-cap-01-reached")
    assert not b.errors
