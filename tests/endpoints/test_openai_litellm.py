"""litellm speaks to a published flow as to any OpenAI-compatible server, so one Patchbay's flow can be another's model."""
from __future__ import annotations

from typing import Any

import httpx
import pytest

from backend.providers.models import ModelAlias
from backend.runs.models import Run

from .conftest import create_graph, make_key, publish
from .test_openai_sdk import QUESTION, answer_spec, native

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def test_litellm_completion_returns_the_flows_output(live_stack, http, alice_api) -> None:  # type: ignore[no-untyped-def]
    import litellm

    publish(alice_api, create_graph(alice_api, answer_spec()), "helper")
    key = make_key(alice_api)["key"]
    expected = native(http, "helper", key, QUESTION)["output"]

    response = litellm.completion(model="openai/helper", api_base=f"{live_stack.http_url}/v1", api_key=key,
                                  messages=[{"role": "user", "content": QUESTION}], max_retries=0)
    assert response.choices[0].message.content == expected
    run = Run.objects.get(pk=response.id)
    assert run.source == "openai" and response.usage.prompt_tokens == run.input_tokens > 0

    streamed = litellm.completion(model="openai/helper", api_base=f"{live_stack.http_url}/v1", api_key=key,
                                  messages=[{"role": "user", "content": QUESTION}], stream=True, max_retries=0)
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == expected


def remote_spec() -> dict[str, Any]:
    """A graph whose one model step is the alias "remote": another Patchbay's published flow."""
    return {"schema": "patchbay.graph/v1", "name": "outer",
            "inputs": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
            "nodes": [{"id": "in", "type": "input"},
                      {"id": "ask", "type": "llm", "config": {"model": "remote", "prompt": "{{ input.text }}"}},
                      {"id": "out", "type": "output", "config": {"value": {"remote_answer": "{{ nodes.ask.output }}"}}}],
            "edges": [{"from": "in", "to": "ask"}, {"from": "ask", "to": "out"}]}


def test_a_model_alias_can_point_at_a_published_flow_of_another_patchbay(  # type: ignore[no-untyped-def]
        live_stack, http: httpx.Client, alice_api, bob_api) -> None:
    # Bob's workspace publishes the inner flow; alice's graph calls it as the model alias "remote".
    publish(bob_api, create_graph(bob_api, answer_spec()), "helper")
    bobs_key = make_key(bob_api)["key"]
    alias = ModelAlias(alias="remote", model="openai/helper", api_base=f"{live_stack.http_url}/v1", max_retries=0,
                       input_cost_per_mtok=0.0, output_cost_per_mtok=0.0)
    alias.set_api_key(bobs_key)
    alias.save()
    publish(alice_api, create_graph(alice_api, remote_spec()), "outer")

    # The inner flow sees the outer step's rendered prompt, the question itself.
    expected = native(http, "helper", bobs_key, QUESTION)["output"]
    outer = native(http, "outer", make_key(alice_api)["key"], QUESTION)
    assert outer["status"] == "succeeded", outer
    assert outer["output"] == {"remote_answer": expected}

    inner = Run.objects.filter(source="openai").get()  # one call of bob's flow, made by alice's run
    assert inner.workspace_id != Run.objects.get(pk=outer["run_id"]).workspace_id
    assert inner.input == {"text": QUESTION} and inner.output == expected
    assert outer["usage"]["input_tokens"] == inner.input_tokens  # the tokens the inner run reported
