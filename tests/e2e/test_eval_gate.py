"""The eval gate in the editor's Publish dialog, in Chromium against the live stack: a regressing version is
refused with the numbers in plain words (and so is moving production to it in the Releases tab), and an admin
publishes it anyway with a written reason (audited)."""
from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.evals.test_eval_live import greet_spec, wait_eval
from tests.runs.live import create_graph

from .conftest import Browser

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def regressing_graph(live_stack, alice, alice_api, slow_demo_models) -> int:  # type: ignore[no-untyped-def]
    """A graph published on v1 (its prompt says hello), a held-out policy that checks for "hello", and a v2
    whose prompt does not: both versions evaluated, so publishing v2 is refused. Set up as
    test_eval_live's gate test does, before the browser starts (the ORM is not used once it runs)."""
    from backend.evals.models import EvalRun

    assert alice_api.post("/api/prompts/", {"name": "greet", "template": "Say hello to {{ input.name }}"},
                          format="json").status_code == 201
    graph_id = create_graph(alice_api, greet_spec("greet@production"))
    dataset = alice_api.post("/api/datasets/", {"name": "greetings", "held_out": True}, format="json").json()["id"]
    lines = "".join(json.dumps({"input": {"name": n}}) + "\n" for n in ("Ada", "Grace", "Linus"))
    assert alice_api.post(f"/api/datasets/{dataset}/import/", {"format": "jsonl", "text": lines},
                          format="json").status_code == 201
    policy = alice_api.put(f"/api/graphs/{graph_id}/eval-policy/", {
        "datasets": [dataset], "scorers": [{"type": "contains", "name": "says hello", "text": "hello"}],
        "threshold": 0.1}, format="json")
    assert policy.status_code == 200, policy.json()
    assert alice_api.post("/api/endpoints/", {"graph": graph_id, "slug": "greeter"}, format="json").status_code == 201
    assert alice_api.post("/api/endpoints/greeter/publish/", {"version": 1}, format="json").status_code == 200
    # A new prompt version starts the baseline's eval; the graph version using it starts its own.
    assert alice_api.post("/api/prompts/greet/versions/", {"template": "Wave at {{ input.name }}"},
                          format="json").status_code == 201
    assert alice_api.put(f"/api/graphs/{graph_id}/", {"spec": greet_spec("greet@2")}, format="json").status_code in (200, 201)
    deadline = time.monotonic() + 60
    wanted = {"baseline", "graph_version"}
    while not wanted <= set(EvalRun.objects.filter(graph_id=graph_id).values_list("trigger", flat=True)):
        assert time.monotonic() < deadline, "the evals did not start"
        time.sleep(0.1)
    for eval_run in EvalRun.objects.filter(graph_id=graph_id, trigger__in=wanted):
        assert wait_eval(str(eval_run.pk)).status == "succeeded"
    return graph_id


def test_a_refused_publish_says_why_and_an_admin_publishes_anyway_with_a_reason(
        regressing_graph: int, browser: Browser) -> None:
    from playwright.sync_api import expect

    b, page = browser, browser.page
    b.sign_in()
    b.goto(f"/graphs/{regressing_graph}")
    expect(page.get_by_test_id("live-version")).to_contain_text("Live: v1")

    # The same gate stands before "Move production here" in the Releases tab.
    made = b.api("POST", f"/api/graphs/{regressing_graph}/releases/", {"version": 2})
    assert made["status"] == 201, made
    page.get_by_test_id("tab-releases").click()
    page.get_by_test_id(f"release-move-production-{made['body']['number']}").click()
    move = page.get_by_test_id("release-move-dialog")
    move.get_by_test_id("release-move-confirm").click()
    expect(move.get_by_test_id("gate-reason")).to_contain_text("a drop of 100 points, more than the 10 allowed")
    expect(move.get_by_test_id("gate-override")).to_have_text("Move production anyway")
    b.screenshot("eval-gate-0-move-refused")
    move.get_by_role("button", name="Cancel").click()
    expect(page.get_by_test_id("live-version")).to_contain_text("Live: v1")  # nothing moved

    page.get_by_test_id("publish").click()
    dialog = page.get_by_test_id("publish-dialog")
    dialog.get_by_test_id("publish-version").select_option("2")
    dialog.get_by_test_id("publish-submit").click()

    refused = dialog.get_by_test_id("gate-refused")
    expect(refused.get_by_test_id("gate-reason")).to_have_text(
        "Held-out evals: pass rate 0 % against 100 % on production — a drop of 100 points, more than the 10 allowed.")
    expect(dialog.get_by_test_id("publish-version-problem")).to_have_count(0)  # said once, in words, not as a field
    override = refused.get_by_test_id("gate-override")
    expect(override).to_have_text("Publish v2 anyway")
    expect(override).to_be_disabled()  # a reason is required
    refused.get_by_test_id("gate-override-reason").fill("   ")
    expect(override).to_be_disabled()
    b.screenshot("eval-gate-1-refused")
    assert b.api("GET", "/api/endpoints/greeter/")["body"]["version"] == 1, "nothing moved on a refusal"

    refused.get_by_test_id("gate-override-reason").fill("Hotfix agreed with support; evals to be updated")
    override.click()
    expect(page.get_by_test_id("live-version")).to_contain_text("Live: v2")
    expect(dialog.get_by_test_id("gate-refused")).to_have_count(0)
    b.screenshot("eval-gate-2-published-anyway")
    assert b.api("GET", "/api/endpoints/greeter/")["body"]["version"] == 2
    workspace = b.api("GET", "/api/session/")["body"]["workspace"]["id"]
    entries: list[dict[str, Any]] = b.api(
        "GET", f"/api/workspaces/{workspace}/audit/?action=eval_gate.overridden")["body"]["results"]
    assert [e["after"]["reason"] for e in entries] == ["Hotfix agreed with support; evals to be updated"]
    assert not b.errors
