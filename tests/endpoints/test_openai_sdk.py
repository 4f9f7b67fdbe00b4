"""The official openai SDK against a live server: published flows answer as OpenAI models (base_url = host/v1)."""
from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from backend.runs.models import Run

from .conftest import create_graph, make_key, publish, save_version

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

QUESTION = "What should I pack for a weekend of hiking in the rain?"


def answer_spec(name: str = "helper", tag: str = "", *, inputs: dict[str, Any] | None = None,
                stream: bool = True, asks: str = "{{ input.text }}") -> dict[str, Any]:
    """input.text → one streaming llm step → its text is the whole output (so its tokens are the answer's)."""
    return {
        "schema": "patchbay.graph/v1", "name": name,
        "inputs": inputs or {"type": "object", "properties": {"text": {"type": "string", "maxLength": 5000}},
                             "required": ["text"]},
        "nodes": [{"id": "in", "type": "input"},
                  {"id": "ask", "type": "llm", "config": {"model": "fast", "stream": stream,
                                                          "prompt": f"{tag}Answer in a few words: {asks}"}},
                  {"id": "out", "type": "output", "config": {"value": "{{ nodes.ask.output }}"}}],
        "edges": [{"from": "in", "to": "ask"}, {"from": "ask", "to": "out"}],
    }


def client(live_stack: Any, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{live_stack.http_url}/v1", api_key=key, max_retries=0, timeout=30)


def native(http: httpx.Client, slug: str, key: str, text: str) -> dict[str, Any]:
    response = http.post(f"/api/v1/flows/{slug}/run", json={"input": {"text": text}},
                         headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def helper(alice_api) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    graph_id = create_graph(alice_api, answer_spec())
    publish(alice_api, graph_id, "helper")
    return {"graph": graph_id, "slug": "helper", "key": make_key(alice_api)["key"]}


def test_chat_completions_answer_with_the_flows_output_as_a_run_tagged_openai(  # type: ignore[no-untyped-def]
        live_stack, http, alice_api, helper) -> None:
    sdk = client(live_stack, helper["key"])
    completion = sdk.chat.completions.create(
        model="helper", messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": QUESTION}],
        extra_headers={"X-Request-Id": "sdk-call-7"})

    expected = native(http, "helper", helper["key"], QUESTION)["output"]
    text = completion.choices[0].message.content
    assert isinstance(expected, str) and expected and text == expected
    assert completion.choices[0].message.role == "assistant" and completion.choices[0].finish_reason == "stop"
    assert completion.model == "helper" and completion.object == "chat.completion"

    run = Run.objects.get(pk=completion.id)  # the id is the run's
    assert run.source == "openai" and run.endpoint_call.request_id == "sdk-call-7" and run.input == {"text": QUESTION}
    assert run.output == text and run.status == "succeeded"
    assert completion.usage is not None and completion.usage.prompt_tokens == run.input_tokens > 0
    assert completion.usage.completion_tokens == run.output_tokens > 0
    assert completion.usage.total_tokens == run.input_tokens + run.output_tokens

    # The run is one like any other: members see it in the runs API, with its request id and source.
    shown = alice_api.get(f"/api/runs/{completion.id}/").json()
    assert shown["source"] == "openai" and shown["request_id"] == "sdk-call-7" and shown["output"] == text
    listed = {r["id"]: r for r in alice_api.get("/api/runs/").json()}
    assert listed[completion.id]["request_id"] == "sdk-call-7"


def test_a_streamed_chat_completion_adds_up_to_the_answer_and_ends_with_usage(  # type: ignore[no-untyped-def]
        live_stack, http, helper) -> None:
    sdk = client(live_stack, helper["key"])
    expected = sdk.chat.completions.create(model="helper", messages=[{"role": "user", "content": QUESTION}])
    chunks = list(sdk.chat.completions.create(model="helper", messages=[{"role": "user", "content": QUESTION}],
                                              stream=True, stream_options={"include_usage": True}))

    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert "".join(pieces) == expected.choices[0].message.content
    assert len(pieces) > 1  # the answer node's tokens, not one lump at the end
    assert all(c.object == "chat.completion.chunk" and c.id == chunks[0].id for c in chunks)
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    usage = chunks[-1].usage
    run = Run.objects.get(pk=chunks[0].id)
    assert chunks[-1].choices == [] and usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens) == (run.input_tokens, run.output_tokens)
    assert run.source == "openai" and usage.total_tokens > 0


def test_the_responses_api_answers_the_same_plain_and_streamed(live_stack, http, helper) -> None:  # type: ignore[no-untyped-def]
    sdk = client(live_stack, helper["key"])
    expected = native(http, "helper", helper["key"], QUESTION)["output"]

    response = sdk.responses.create(model="helper", input=QUESTION, instructions="Be brief.")
    assert response.output_text == expected and response.status == "completed"
    run = Run.objects.get(pk=response.id)
    assert run.source == "openai" and run.input == {"text": QUESTION}
    assert response.usage is not None and response.usage.input_tokens == run.input_tokens > 0
    assert response.usage.output_tokens == run.output_tokens

    events = list(sdk.responses.create(model="helper", input=[{"role": "user", "content": QUESTION}], stream=True))
    kinds = [e.type for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert "".join(deltas) == expected and len(deltas) > 1
    done = events[-1].response
    assert done.output_text == expected and done.usage is not None and done.usage.total_tokens > 0
    assert [e.sequence_number for e in events] == list(range(len(events)))


def test_models_lists_exactly_the_flows_the_key_may_call(live_stack, alice_api, bob_api) -> None:  # type: ignore[no-untyped-def]
    for slug in ("alpha", "beta", "gamma"):
        publish(alice_api, create_graph(alice_api, answer_spec(slug)), slug)
    assert alice_api.post("/api/endpoints/gamma/unpublish/", {}, format="json").status_code == 200
    publish(alice_api, create_graph(alice_api, answer_spec("draft")), "draft", publish=False)
    publish(bob_api, create_graph(bob_api, answer_spec("bobs")), "bobs")
    every = make_key(alice_api)["key"]
    scoped = make_key(alice_api, scopes=["beta"])["key"]

    assert sorted(m.id for m in client(live_stack, every).models.list()) == ["alpha", "beta"]
    assert [m.id for m in client(live_stack, scoped).models.list()] == ["beta"]
    assert {m.owned_by for m in client(live_stack, every).models.list()} == {"patchbay"}
    # models.retrieve answers a callable flow, and the SDK's NotFoundError for one the key may not call.
    assert client(live_stack, scoped).models.retrieve("beta").id == "beta"
    for hidden in ("alpha", "gamma", "bobs", "draft"):
        with pytest.raises(openai.NotFoundError):
            client(live_stack, scoped).models.retrieve(hidden)


def test_refusals_raise_the_sdks_own_errors(live_stack, alice_api, helper) -> None:  # type: ignore[no-untyped-def]
    messages = [{"role": "user", "content": "hi"}]
    revoked = make_key(alice_api)
    assert alice_api.post(f"/api/api-keys/{revoked['id']}/revoke/").status_code == 200
    with pytest.raises(openai.AuthenticationError) as refused:
        client(live_stack, revoked["key"]).chat.completions.create(model="helper", messages=messages)
    assert "revoked" in refused.value.message
    with pytest.raises(openai.AuthenticationError):
        client(live_stack, revoked["key"]).models.list()

    sdk = client(live_stack, helper["key"])
    for model in ("nowhere", "helper@7", "helper@staging"):
        with pytest.raises(openai.NotFoundError) as missing:
            sdk.chat.completions.create(model=model, messages=messages)
        assert missing.value.code == "model_not_found" and model in missing.value.message
    publish(alice_api, create_graph(alice_api, answer_spec("other")), "other")
    other_only = client(live_stack, make_key(alice_api, scopes=["other"])["key"])
    with pytest.raises(openai.PermissionDeniedError) as out_of_scope:
        other_only.chat.completions.create(model="helper", messages=messages)
    assert "may call only: other" in out_of_scope.value.message

    limited = client(live_stack, make_key(alice_api, rate_limit_per_minute=1)["key"])
    assert limited.chat.completions.create(model="helper", messages=messages).choices[0].message.content
    with pytest.raises(openai.RateLimitError) as limit:
        limited.responses.create(model="helper", input="again")
    assert 0 < int(limit.value.response.headers["Retry-After"]) <= 60
    capped = client(live_stack, make_key(alice_api, daily_max_cost_usd=0)["key"])
    with pytest.raises(openai.RateLimitError) as cap:
        capped.chat.completions.create(model="helper", messages=messages)
    assert cap.value.code == "spend_cap_reached" and int(cap.value.response.headers["Retry-After"]) > 0
    assert Run.objects.filter(source="openai").count() == 1  # nothing refused became a run


def test_a_version_or_the_live_label_picks_what_answers(live_stack, alice_api) -> None:  # type: ignore[no-untyped-def]
    graph_id = create_graph(alice_api, answer_spec(tag="[one] "))
    publish(alice_api, graph_id, "versioned")
    assert save_version(alice_api, graph_id, answer_spec(tag="[two] ")) == 2
    save_version(alice_api, graph_id, answer_spec(tag="[three] "))  # saved, never published: not callable
    assert alice_api.post("/api/endpoints/versioned/publish/", {"version": 2}, format="json").status_code == 200
    sdk = client(live_stack, make_key(alice_api)["key"])

    def version_of(model: str) -> int:
        completion = sdk.chat.completions.create(model=model, messages=[{"role": "user", "content": "hello"}])
        return Run.objects.get(pk=completion.id).graph_version.number

    assert [version_of(m) for m in ("versioned", "versioned@live", "versioned@latest", "versioned@1")] == [2, 2, 2, 1]
    with pytest.raises(openai.NotFoundError):
        version_of("versioned@3")


def test_the_openai_snippets_work_as_pasted(live_stack, flow, alice_api) -> None:  # type: ignore[no-untyped-def]
    import json
    import os
    import subprocess
    import sys

    endpoint = alice_api.get(f"/api/endpoints/{flow.slug}/", HTTP_HOST=live_stack.http_url.removeprefix("http://"))
    snippets = endpoint.json()["snippets"]
    assert f"{live_stack.http_url}/v1" in snippets["openai_javascript"] and '"ask"' in snippets["openai_javascript"]
    assert snippets["openai_python"].startswith("# The last user message becomes input.text;")
    env = {**os.environ, "PATCHBAY_API_KEY": flow.key}
    curl = subprocess.run(["bash", "-c", snippets["openai_curl"]], env=env, capture_output=True, text=True, timeout=60)
    assert curl.returncode == 0, curl.stderr
    answer = json.loads(json.loads(curl.stdout)["choices"][0]["message"]["content"])  # a JSON output, as JSON text
    assert answer["version"] == "one" and answer["reply"]
    python = subprocess.run([sys.executable, "-c", snippets["openai_python"]], env=env, capture_output=True,
                            text=True, timeout=60)
    assert python.returncode == 0, python.stderr
    assert json.loads(python.stdout) == answer  # the demo model answers the same prompt the same way
    assert Run.objects.filter(endpoint_call__api_key_id=flow.key_id, source="openai", status="succeeded").count() == 2


def test_a_failed_run_is_a_502_the_sdk_does_not_retry(live_stack, alice_api, fake_openai) -> None:  # type: ignore[no-untyped-def]
    from backend.providers.models import ModelAlias

    ModelAlias.objects.create(alias="broken", model="openai/gpt-4o-mini+error_500", api_base=fake_openai.url,
                              api_key_env="PATH", max_retries=0)
    spec = answer_spec("broken")
    spec["nodes"][1]["config"]["model"] = "broken"
    publish(alice_api, create_graph(alice_api, spec), "broken")
    key = make_key(alice_api)["key"]
    retrying = openai.OpenAI(base_url=f"{live_stack.http_url}/v1", api_key=key, max_retries=2, timeout=30)

    with pytest.raises(openai.InternalServerError) as failed:
        retrying.chat.completions.create(model="broken", messages=[{"role": "user", "content": "hi"}])
    assert failed.value.status_code == 502 and failed.value.code == "run_failed"
    assert failed.value.response.headers["x-should-retry"] == "false"
    run = Run.objects.get(source="openai")  # one run: the SDK did not start two more
    assert run.status == "failed" and str(run.pk) in failed.value.message

    events = list(retrying.responses.create(model="broken", input="hi", stream=True))
    assert events[-1].type == "response.failed" and events[-1].response.error.code == "run_failed"
    with pytest.raises(openai.APIError, match="ended failed"):
        list(retrying.chat.completions.create(model="broken", messages=[{"role": "user", "content": "hi"}],
                                              stream=True))
