"""The workspace's monthly cap refuses endpoint calls and OpenAI-compatible calls, over real HTTP."""
from __future__ import annotations

import openai
import pytest

from backend.graphs.services import workspace_for_user
from backend.runs.models import Run

from .test_flow_calls import call

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def test_the_cap_refuses_the_next_endpoint_call_and_openai_call(live_stack, http, flow, alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    workspace = workspace_for_user(alice)
    capped = alice_api.patch(f"/api/workspaces/{workspace.pk}/spend/", {"monthly_cap_usd": 0.0000001}, format="json")
    assert capped.status_code == 200 and not capped.json()["reached"]
    first = call(http, flow.slug, flow.key, {"input": {"text": "spend a little"}})
    assert first.status_code == 200, first.text
    assert first.json()["usage"]["cost_usd"] > 0.0000001  # a real run's cost, written by the worker
    runs = Run.objects.count()
    refused_before = alice_api.get(f"/api/workspaces/{workspace.pk}/spend/").json()["refused_this_month"]

    refused = call(http, flow.slug, flow.key, {"input": {"text": "and more"}})
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"] == "workspace_spend_cap"
    assert "monthly spend cap of $0.0000001" in refused.json()["message"]
    assert int(refused.headers["Retry-After"]) > 0

    sdk = openai.OpenAI(base_url=f"{live_stack.http_url}/v1", api_key=flow.key, max_retries=0, timeout=30)
    with pytest.raises(openai.RateLimitError) as limited:
        sdk.chat.completions.create(model=flow.slug, messages=[{"role": "user", "content": "hi"}])
    assert limited.value.code == "workspace_spend_cap" and "monthly spend cap" in limited.value.message
    assert Run.objects.count() == runs  # neither refusal started a run

    status = alice_api.get(f"/api/workspaces/{workspace.pk}/spend/").json()
    assert status["reached"] and status["refused_this_month"] == refused_before + 2
    assert status["spend_this_month"] == pytest.approx(first.json()["usage"]["cost_usd"])
