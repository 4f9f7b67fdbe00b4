"""The OpenAI-compatible routes fuzzed in-process: never a 5xx, every refusal in OpenAI's error shape, no run.

The key has a daily cap of $0, so a call that passes every check is refused at the
spend check, the last one before a run is stored: everything before it is
exercised (auth, body, model names, mapping onto the flow's input, response
formats, headers) and nothing waits on a worker.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from backend.runs.models import Run

from ..endpoints.conftest import create_graph, make_key, publish
from .conftest import fuzz
from .strategies import json_values, raw_bodies, tricky_text
from .test_flow_calls import SPEC, close_pool_connections

pytestmark = pytest.mark.django_db(transaction=True)

models = st.one_of(st.sampled_from(["echo", "echo@1", "echo@live", "echo@99999999999", "echo@", "@1", "nope"]),
                   tricky_text(), json_values())
contents = st.one_of(tricky_text(), json_values(), st.lists(st.fixed_dictionaries(
    {"type": st.sampled_from(["text", "input_text", "image_url"]), "text": st.one_of(tricky_text(), json_values())}),
    max_size=3))
messages = st.one_of(st.lists(st.fixed_dictionaries({"role": st.one_of(st.sampled_from(["user", "system", "assistant",
                                                                                          "tool"]), json_values()),
                                                      "content": contents}), max_size=4), json_values())
formats = st.one_of(st.none(), json_values(), st.fixed_dictionaries({
    "type": st.sampled_from(["text", "json_object", "json_schema"]),
    "json_schema": st.one_of(json_values(), st.fixed_dictionaries({"name": tricky_text(), "schema": json_values()})),
    "schema": json_values()}))
chat_bodies = st.fixed_dictionaries({"model": models, "messages": messages}, optional={
    "stream": st.one_of(st.booleans(), json_values()), "stream_options": json_values(), "response_format": formats,
    "temperature": json_values(), "tools": json_values()})
responses_bodies = st.fixed_dictionaries({"model": models, "input": st.one_of(tricky_text(), messages)}, optional={
    "instructions": st.one_of(tricky_text(), json_values()), "stream": st.one_of(st.booleans(), json_values()),
    "text": st.one_of(json_values(), st.fixed_dictionaries({"format": formats})),
    "previous_response_id": json_values()})


@pytest.fixture
def capped(alice_api) -> Iterator[str]:  # type: ignore[no-untyped-def]
    publish(alice_api, create_graph(alice_api, SPEC), "echo")
    yield make_key(alice_api, daily_max_cost_usd=0)["key"]
    close_pool_connections()


def assert_openai_answer(response: Any, what: str) -> None:
    status = response.status_code
    assert status < 500, f"{what} → {status}: {response.content[:800]!r}"
    assert status >= 400, f"{what} → {status}: the $0 cap should refuse every call"
    body = json.loads(response.content)
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}, f"{what}: {body}"
    error = body["error"]
    assert isinstance(error["message"], str) and error["message"] and isinstance(error["type"], str), body
    assert error["param"] is None or isinstance(error["param"], str), body


@fuzz
@given(data=st.data(), raw=st.booleans(), route=st.sampled_from(["chat/completions", "responses"]),
       request_id=st.one_of(st.none(), tricky_text()))
def test_openai_calls_never_500_and_answer_in_openais_shape(capped, data: st.DataObject, raw: bool, route: str,  # type: ignore[no-untyped-def]
                                                             request_id: str | None) -> None:
    bodies = chat_bodies if route == "chat/completions" else responses_bodies
    body = data.draw(st.one_of(bodies, json_values()), label="body")
    encoded = data.draw(raw_bodies(st.just(body)), label="raw") if raw else json.dumps(body).encode()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {capped}"}
    if request_id is not None:
        headers["HTTP_X_REQUEST_ID"] = request_id
    response = Client().post(f"/v1/{route}", encoded, content_type="application/json", **headers)
    assert_openai_answer(response, f"POST /v1/{route} {encoded[:2000]!r} {headers}")
    assert not Run.objects.exists()
