"""How conversations become flow inputs and outputs become answers (pure), and the OpenAI error shape over HTTP."""
from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest

from backend.endpoints.openai_errors import OpenAIRefusal
from backend.endpoints.openai_mapping import (
    ResponseFormat,
    answer_text,
    flow_input,
    mapping_note,
    parse_chat,
    parse_responses,
)
from backend.endpoints.openai_streaming import answer_node
from backend.runs.models import Run

from .conftest import create_graph, make_key, publish
from .test_openai_sdk import answer_spec, client

TEXT = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
CHAT = [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ok"}, {"role": "user", "content": [{"type": "text", "text": "second"}]}]


def refusal(fn: Any, *args: Any) -> OpenAIRefusal:
    with pytest.raises(OpenAIRefusal) as caught:
        fn(*args)
    return caught.value


# --------------------------------------------------------------------------- pure rules


def test_the_last_user_message_fills_the_one_required_string_field() -> None:
    messages = parse_chat({"model": "ask", "messages": CHAT}).messages
    assert flow_input(messages, TEXT, "ask") == {"text": "second"}
    assert flow_input(messages, {"type": "string"}, "ask") == "second"
    optional = {"type": "object", "properties": {"question": {"type": "string"}, "n": {"type": "integer"}}}
    assert flow_input(messages, optional, "ask") == {"question": "second"}


def test_a_flow_that_takes_messages_gets_the_whole_conversation() -> None:
    schema = {"type": "object", "properties": {"messages": {"type": "array"}}, "required": ["messages"]}
    messages = parse_chat({"model": "ask", "messages": CHAT}).messages
    assert flow_input(messages, schema, "ask") == {"messages": [
        {"role": "system", "content": "Be kind."}, {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ok"}, {"role": "user", "content": "second"}]}


def test_inputs_that_cannot_take_a_conversation_are_422_naming_the_fields() -> None:
    two = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "required": ["a", "b"]}
    refused = refusal(flow_input, [{"role": "user", "content": "x"}], two, "pair")
    assert refused.status == 422 and refused.code == "input_not_mappable" and "a, b" in refused.message
    number = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    assert refusal(flow_input, [{"role": "user", "content": "x"}], number, "count").status == 422
    no_user = refusal(flow_input, [{"role": "system", "content": "x"}], TEXT, "ask")
    assert no_user.status == 422 and no_user.code == "no_user_message"


def test_each_flows_page_says_what_a_conversation_becomes() -> None:
    assert mapping_note(TEXT).startswith("The last user message becomes input.text;")
    assert mapping_note({"type": "string"}).startswith("The last user message becomes the flow's input;")
    assert mapping_note({"type": "object", "properties": {"messages": {}}}).startswith("The whole conversation")
    assert "get a 422" in mapping_note({"type": "object", "required": ["a", "b"]})


def test_bad_requests_name_the_field_at_fault() -> None:
    assert refusal(parse_chat, {"messages": CHAT}).param == "model"
    assert refusal(parse_chat, {"model": "ask", "messages": []}).param == "messages"
    assert refusal(parse_chat, {"model": "ask", "messages": [{"role": "wizard", "content": "x"}]}).param == \
        "messages[0].role"
    image = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]
    assert refusal(parse_chat, {"model": "ask", "messages": image}).param == "messages[0].content[0]"
    assert refusal(parse_chat, {"model": "ask", "messages": CHAT, "stream": "yes"}).param == "stream"
    bad_schema = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "nonsense"}}}
    assert refusal(parse_chat, {"model": "ask", "messages": CHAT, "response_format": bad_schema}).status == 400
    assert refusal(parse_responses, {"model": "ask", "input": "x", "previous_response_id": "r"}).param == \
        "previous_response_id"
    assert parse_responses({"model": "ask@2", "input": "hi", "instructions": "Be brief."}).messages == [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]


def test_outputs_become_text_or_json_text_that_must_fit_the_response_format() -> None:
    assert answer_text("plain", ResponseFormat("text"), "r") == "plain"
    assert json.loads(answer_text({"a": 1}, ResponseFormat("text"), "r")) == {"a": 1}
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    assert json.loads(answer_text({"a": 1}, ResponseFormat("json_schema", schema), "r")) == {"a": 1}
    assert answer_text('{"a": 2}', ResponseFormat("json_schema", schema), "r") == '{"a": 2}'
    for output, form in (({"a": "one"}, ResponseFormat("json_schema", schema)), ("not json", ResponseFormat(
            "json_object")), ([1], ResponseFormat("json_object"))):
        refused = refusal(answer_text, output, form, "run-9")
        assert refused.status == 422 and refused.param == "response_format" and "run-9" in refused.message


def test_only_a_streaming_llm_step_that_is_the_whole_output_streams_live() -> None:
    assert answer_node(answer_spec()) == "ask"
    assert answer_node(answer_spec(stream=False)) is None
    composed = answer_spec()
    composed["nodes"][2]["config"]["value"] = {"reply": "{{ nodes.ask.output }}"}
    assert answer_node(composed) is None


def test_an_outage_is_a_503_with_retry_after_in_openais_shape() -> None:
    from django.db import OperationalError

    from backend.endpoints.openai_views import _openai_shape

    down = _openai_shape(OperationalError("the database is restarting"))
    assert down is not None and down.status == 503 and down.headers["Retry-After"] == "5"
    assert down.body()["error"]["type"] == "service_unavailable"
    assert _openai_shape(ValueError("a bug")) is None  # a bug stays a bug (the 500 handler), not a fake outage


def test_streamed_pieces_add_up_to_the_answer_when_live_deltas_were_lost_and_never_glue_across_a_gap(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Live deltas are never stored: after a channel-layer gap (a Redis restart) the rest comes at the end."""
    import asyncio
    from types import SimpleNamespace

    from backend.endpoints import openai_streaming
    from backend.endpoints.follow import DELTAS_MISSED

    run = SimpleNamespace(pk="r1", is_finished=True, status="succeeded", output="one two three four", error="")
    conversation = parse_chat({"model": "helper", "messages": [{"role": "user", "content": "hi"}], "stream": True})

    def pieces(*events: dict[str, Any], output: str = run.output) -> list[tuple[str, Any]]:
        async def follow(*_: Any, **__: Any) -> Any:
            for event in events:
                yield event

        async def read(*_: Any) -> Any:
            return SimpleNamespace(**{**vars(run), "output": output})

        monkeypatch.setattr(openai_streaming, "follow_events", follow)
        monkeypatch.setattr(openai_streaming, "db", lambda fn: read)

        async def collect() -> list[tuple[str, Any]]:
            return [p async for p in openai_streaming.output_pieces("r1", conversation, "ask")]
        return asyncio.run(collect())

    def delta(text: str) -> dict[str, Any]:
        return {"type": "node.delta", "node_id": "ask", "text": text, "attempt": 1, "seq": None}

    whole = pieces(delta("one "), delta("two "), delta("three "), delta("four"))
    assert [v for k, v in whole if k == "delta"] == ["one ", "two ", "three ", "four"] and whole[-1][0] == "done"
    # "two " and "three " were lost with Redis; "four" came live after it was back: not glued onto "one ".
    gap = pieces(delta("one "), DELTAS_MISSED, delta("four"))
    assert [v for k, v in gap if k == "delta"] == ["one ", "two three four"] and gap[-1][0] == "done"
    # Pieces that cannot be the start of the answer, however they came: an error chunk, never a garbled answer.
    garbled = pieces(delta("one "), delta("four"))
    assert [k for k, _ in garbled] == ["delta", "delta", "error"]
    assert garbled[-1][1].code == "stream_incomplete" and "/api/v1/runs/r1" in garbled[-1][1].message


# --------------------------------------------------------------------------- over HTTP



def post(http: httpx.Client, path: str, key: str, body: Any, **headers: str) -> httpx.Response:
    return http.post(f"/v1/{path}", json=body, headers={"Authorization": f"Bearer {key}", **headers})


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}, body
    return body["error"]


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_refusals_use_openais_error_shape_and_status_codes(live_stack, http, alice_api) -> None:  # type: ignore[no-untyped-def]
    publish(alice_api, create_graph(alice_api, answer_spec()), "helper")
    pair = answer_spec("pair", inputs={"type": "object", "required": ["a", "b"],
                                       "properties": {"a": {"type": "string"}, "b": {"type": "string"}}},
                       asks="{{ input.a }} {{ input.b }}")
    publish(alice_api, create_graph(alice_api, pair), "pair")
    short = answer_spec("short", inputs={"type": "object", "required": ["text"],
                                         "properties": {"text": {"type": "string", "maxLength": 5}}})
    publish(alice_api, create_graph(alice_api, short), "short")
    key = make_key(alice_api)["key"]
    hi = [{"role": "user", "content": "hi"}]

    anonymous = http.post("/v1/chat/completions", json={"model": "helper", "messages": hi})
    assert anonymous.status_code == 401 and error_of(anonymous)["type"] == "authentication_error"
    unknown = post(http, "chat/completions", key, {"model": "nope", "messages": hi})
    assert unknown.status_code == 404 and error_of(unknown) | {"message": ""} == {
        "message": "", "type": "not_found_error", "param": "model", "code": "model_not_found"}
    unmappable = post(http, "chat/completions", key, {"model": "pair", "messages": hi})
    assert unmappable.status_code == 422 and "a, b" in error_of(unmappable)["message"]
    too_long = post(http, "responses", key, {"model": "short", "input": "far more than five characters"})
    assert too_long.status_code == 422 and error_of(too_long)["param"] == "input.text"
    not_json = http.post("/v1/chat/completions", content=b"{oops", headers={"Authorization": f"Bearer {key}",
                                                                            "Content-Type": "application/json"})
    assert not_json.status_code == 400 and error_of(not_json)["type"] == "invalid_request_error"
    huge = post(http, "chat/completions", key, {"model": "helper", "messages": [{"role": "user",
                                                                                 "content": "x" * 300_000}]})
    assert huge.status_code == 413 and error_of(huge)["param"] == "messages"
    wrong_method = http.get("/v1/chat/completions", headers={"Authorization": f"Bearer {key}"})
    assert wrong_method.status_code == 405 and error_of(wrong_method)["code"] == "method_not_allowed"
    elsewhere = post(http, "embeddings", key, {"model": "helper", "input": "hi"})
    assert elsewhere.status_code == 404 and error_of(elsewhere)["code"] == "unknown_url"
    assert not Run.objects.exists()  # no refusal started a run


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_idempotency_key_and_request_id_behave_as_on_flow_calls(live_stack, http, alice_api) -> None:  # type: ignore[no-untyped-def]
    publish(alice_api, create_graph(alice_api, answer_spec()), "helper")
    key = make_key(alice_api)["key"]
    body = {"model": "helper", "messages": [{"role": "user", "content": "hello there"}]}

    first = post(http, "chat/completions", key, body, **{"Idempotency-Key": "order-1", "X-Request-Id": "abc-1"})
    again = post(http, "chat/completions", key, body, **{"Idempotency-Key": "order-1"})
    assert first.status_code == again.status_code == 200, first.text
    assert first.headers["X-Request-Id"] == "abc-1" and again.headers["X-Request-Id"].startswith("req_")
    assert again.headers["Idempotent-Replayed"] == "true" and first.json()["id"] == again.json()["id"]
    assert first.headers["X-Run-Id"] == first.json()["id"] and Run.objects.count() == 1
    assert first.json()["choices"] == again.json()["choices"]

    changed = {**body, "messages": [{"role": "user", "content": "something else"}]}
    with pytest.raises(openai.ConflictError) as conflict:
        client(live_stack, key).chat.completions.create(**changed, extra_headers={"Idempotency-Key": "order-1"})
    assert conflict.value.code == "idempotency_conflict" and Run.objects.count() == 1
    bad_id = post(http, "chat/completions", key, body, **{"X-Request-Id": "has space"})
    assert bad_id.status_code == 400 and error_of(bad_id)["param"] == "headers.X-Request-Id"


STRUCTURED = {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "string"}}},
              "required": ["items"]}


def structured_spec() -> dict[str, Any]:
    spec = answer_spec("extract")
    spec["nodes"][1]["config"] = {"model": "fast", "prompt": "List the items in: {{ input.text }}",
                                  "output_schema": STRUCTURED}
    return spec


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_response_format_json_schema_is_honoured_where_the_output_fits(live_stack, alice_api) -> None:  # type: ignore[no-untyped-def]
    publish(alice_api, create_graph(alice_api, structured_spec()), "extract")
    publish(alice_api, create_graph(alice_api, answer_spec()), "helper")
    sdk = client(live_stack, make_key(alice_api)["key"])
    messages = [{"role": "user", "content": "two apples and a pear"}]
    fits = {"type": "json_schema", "json_schema": {"name": "items", "schema": STRUCTURED}}

    completion = sdk.chat.completions.create(model="extract", messages=messages, response_format=fits)
    answer = json.loads(completion.choices[0].message.content)
    assert answer == Run.objects.get(pk=completion.id).output and isinstance(answer["items"], list)
    streamed = sdk.chat.completions.create(model="extract", messages=messages, response_format=fits, stream=True)
    assert json.loads("".join(c.choices[0].delta.content or "" for c in streamed if c.choices)) == answer
    structured = sdk.responses.create(model="extract", input="two apples", text={"format": {
        "type": "json_schema", "name": "items", "schema": STRUCTURED}})
    assert isinstance(json.loads(structured.output_text)["items"], list)

    with pytest.raises(openai.UnprocessableEntityError) as misfit:
        sdk.chat.completions.create(model="helper", messages=messages, response_format=fits)
    assert misfit.value.code == "output_does_not_fit" and misfit.value.param == "response_format"
    with pytest.raises(openai.APIError) as in_stream:  # streamed: the error arrives as the stream's last event
        list(sdk.chat.completions.create(model="helper", messages=messages, response_format=fits, stream=True))
    assert "not the JSON" in in_stream.value.message
