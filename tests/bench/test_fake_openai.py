"""Tests for bench/fake_openai.py, driven through httpx and litellm's real client.

No Django, no database: the fake server is plain aiohttp on loopback.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from bench.fake_openai import FakeConfig, FakeServer, _start, make_answer, make_app, start_in_thread, timing_middleware

MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Summarise the quarterly report in one line please"},
]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServer]:
    with start_in_thread(FakeConfig(seed=1)) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _clean(server: FakeServer) -> None:
    # Each test starts from default behaviour and zeroed counters.
    server.configure(**vars(FakeConfig(seed=1)))
    server.reset_stats()


@pytest.fixture(scope="module")
def litellm() -> Any:
    # Must be set before the import, or litellm fetches the cost map over the network.
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    import litellm as _litellm

    _litellm.suppress_debug_info = True
    return _litellm


def _post(server: FakeServer, body: Any, **kw: Any) -> httpx.Response:
    return httpx.post(f"{server.url}/chat/completions", json=body, timeout=5, **kw)


def test_plain_completion_has_openai_shape(server: FakeServer) -> None:
    r = _post(server, {"model": "gpt-4o-mini", "messages": MESSAGES})
    assert r.status_code == 200
    data = r.json()
    assert data["object"] == "chat.completion"
    assert data["id"].startswith("chatcmpl-fake-")
    assert data["model"] == "gpt-4o-mini"
    assert isinstance(data["created"], int)
    choice = data["choices"][0]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop"
    assert choice["message"] == {
        "role": "assistant",
        "content": "fake answer: Summarise the quarterly report in one line please",
    }
    usage = data["usage"]
    # 3 + 3 words, 3 + 8 words, 3 per message.
    assert usage["prompt_tokens"] == 17
    assert usage["completion_tokens"] == 10
    assert usage["total_tokens"] == 27


def test_unprefixed_route_and_answer_truncation(server: FakeServer) -> None:
    long = "x" * 100
    r = httpx.post(
        server.url.removesuffix("/v1") + "/chat/completions",
        json={"model": "m", "messages": [{"role": "user", "content": long}]},
    )
    assert r.json()["choices"][0]["message"]["content"] == "fake answer: " + "x" * 60


def test_litellm_completion_and_cost(server: FakeServer, litellm: Any) -> None:
    resp = litellm.completion(
        model="openai/gpt-4o-mini",
        api_base=server.url,
        api_key="test",
        messages=MESSAGES,
    )
    assert resp.choices[0].message.content.startswith("fake answer:")
    assert resp.usage.prompt_tokens == 17 and resp.usage.completion_tokens == 10
    assert litellm.completion_cost(completion_response=resp) > 0
    assert server.stats()["by_status"]["200"] == 1


def test_litellm_streaming_matches_plain_answer(
    server: FakeServer, litellm: Any
) -> None:
    server.configure(chunk_delay_ms=5)
    chunks = list(
        litellm.completion(
            model="openai/gpt-4o-mini",
            api_base=server.url,
            api_key="test",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == make_answer({"messages": MESSAGES})
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) >= 3
    usages = [c.usage for c in chunks if getattr(c, "usage", None)]
    assert usages and usages[-1].completion_tokens == 10


def test_raw_stream_format(server: FakeServer) -> None:
    body = {
        "model": "m",
        "messages": MESSAGES,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    r = _post(server, body)
    assert r.headers["content-type"].startswith("text/event-stream")
    events = [e.removeprefix("data: ") for e in r.text.split("\n\n") if e]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] == 27


SCHEMA = {
    "type": "object",
    "properties": {
        "verdict": {
            "type": "object",
            "properties": {
                "label": {"type": "string", "enum": ["approve", "reject"]},
                "score": {"type": "integer", "minimum": 3},
            },
            "required": ["label", "score"],
            "additionalProperties": False,
        },
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        "note": {"anyOf": [{"type": "null"}, {"type": "string"}]},
    },
    "required": ["verdict", "tags", "note"],
    "additionalProperties": False,
}


def test_json_schema_response_format_validates(
    server: FakeServer, litellm: Any
) -> None:
    resp = litellm.completion(
        model="openai/gpt-4o-mini",
        api_base=server.url,
        api_key="test",
        messages=MESSAGES,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "review", "schema": SCHEMA, "strict": True},
        },
    )
    value = json.loads(resp.choices[0].message.content)
    jsonschema.validate(value, SCHEMA)
    assert value["verdict"] == {"label": "approve", "score": 3}
    assert len(value["tags"]) == 2


def test_json_object_response_format(server: FakeServer) -> None:
    body = {
        "model": "m",
        "messages": MESSAGES,
        "response_format": {"type": "json_object"},
    }
    content = _post(server, body).json()["choices"][0]["message"]["content"]
    assert json.loads(content) == {"answer": "fake"}


def test_fail_first_n_is_retried_by_litellm(server: FakeServer, litellm: Any) -> None:
    server.configure(fail_first_n=2)
    resp = litellm.completion(
        model="openai/gpt-4o-mini",
        api_base=server.url,
        api_key="test",
        messages=MESSAGES,
        num_retries=2,
    )
    assert resp.choices[0].message.content.startswith("fake answer:")
    stats = server.stats()
    assert stats["requests"] == 3
    assert stats["by_status"]["500"] == 2 and stats["by_status"]["200"] == 1


def test_fail_first_n_exhausts_litellm_retries(
    server: FakeServer, litellm: Any
) -> None:
    server.configure(fail_first_n=5)
    # max_retries, not num_retries: litellm maps num_retries onto the OpenAI SDK's
    # max_retries, but once those are spent it falls back to a tenacity-based retry
    # that (tenacity not being installed) raises a bare Exception without a status.
    with pytest.raises(litellm.InternalServerError) as info:
        litellm.completion(
            model="openai/gpt-4o-mini",
            api_base=server.url,
            api_key="test",
            messages=MESSAGES,
            max_retries=1,
        )
    assert info.value.status_code == 500
    stats = server.stats()
    assert stats["requests"] == 2 and stats["by_status"]["500"] == 2


def test_hang_triggers_client_timeout(server: FakeServer, litellm: Any) -> None:
    server.configure(hang_rate=1.0)
    start = time.monotonic()
    with pytest.raises(litellm.Timeout):
        litellm.completion(
            model="openai/gpt-4o-mini",
            api_base=server.url,
            api_key="test",
            messages=MESSAGES,
            timeout=0.5,
            num_retries=0,
        )
    assert time.monotonic() - start < 3
    assert server.stats()["hung"] >= 1


def test_error_rates_use_openai_shape(server: FakeServer) -> None:
    server.configure(error_rate_429=1.0)
    r = _post(server, {"model": "m", "messages": MESSAGES})
    assert r.status_code == 429 and r.headers["retry-after"] == "0"
    assert r.json()["error"]["code"] == "rate_limit_exceeded"
    server.configure(error_rate_429=0.0, error_rate_500=1.0)
    r = _post(server, {"model": "m", "messages": MESSAGES})
    assert r.status_code == 500 and r.json()["error"]["type"] == "server_error"
    assert server.stats()["by_status"] == {"200": 0, "429": 1, "500": 1}


def test_random_errors_are_deterministic_per_seed(server: FakeServer) -> None:
    def run() -> list[int]:
        server.configure(error_rate_429=0.3, error_rate_500=0.3, seed=7)
        return [
            _post(server, {"model": "m", "messages": MESSAGES}).status_code
            for _ in range(20)
        ]

    first = run()
    assert first == run()
    assert {200, 429, 500} <= set(first)


def test_concurrent_requests_are_not_serialised(server: FakeServer) -> None:
    server.configure(latency_ms=200)

    async def burst() -> list[int]:
        async with httpx.AsyncClient(
            timeout=10, limits=httpx.Limits(max_connections=64)
        ) as client:
            rs = await asyncio.gather(
                *(
                    client.post(
                        f"{server.url}/chat/completions",
                        json={"model": "m", "messages": MESSAGES},
                    )
                    for _ in range(32)
                )
            )
        return [r.status_code for r in rs]

    start = time.monotonic()
    statuses = asyncio.run(burst())
    elapsed = time.monotonic() - start
    assert statuses == [200] * 32
    assert elapsed >= 0.2  # the latency was kept
    # Concurrency is read off the server, not the wall clock (a loaded machine stretched 32 × 200 ms past 2 s once):
    # serialised, at most one request would ever be in flight.
    stats = server.stats()
    assert stats["max_in_flight"] >= 16 and stats["in_flight"] == 0


def test_unknown_route_is_404(server: FakeServer) -> None:
    r = httpx.get(server.url + "/nope")
    assert r.status_code == 404
    assert "message" in r.json()["error"]


def test_malformed_json_is_400_with_openai_shape(server: FakeServer) -> None:
    r = httpx.post(
        f"{server.url}/chat/completions",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "invalid_request_error"
    r = _post(server, {"model": "m"})  # valid JSON, no messages
    assert r.status_code == 400


def test_control_plane(server: FakeServer) -> None:
    base = server.url.removesuffix("/v1")
    assert httpx.get(base + "/health").status_code == 200
    r = httpx.post(base + "/_control", json={"latency_ms": 1, "fail_first_n": 1})
    assert r.status_code == 200 and r.json()["fail_first_n"] == 1
    assert _post(server, {"model": "m", "messages": MESSAGES}).status_code == 500
    assert _post(server, {"model": "m", "messages": MESSAGES}).status_code == 200
    assert httpx.get(base + "/_stats").json()["requests"] == 2
    assert httpx.post(base + "/_control", json={"bogus": 1}).status_code == 400
    assert httpx.post(base + "/_control", json={"latency_ms": "x"}).status_code == 400
    assert httpx.post(base + "/_reset").json()["requests"] == 0


def test_api_key_is_enforced() -> None:
    with start_in_thread(api_key="sekrit") as srv:
        body = {"model": "m", "messages": MESSAGES}
        r = _post(srv, body)
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
        r = _post(srv, body, headers={"Authorization": "Bearer sekrit"})
        assert r.status_code == 200


def test_cli_prints_url_and_serves() -> None:
    script = Path(__file__).resolve().parents[2] / "bench" / "fake_openai.py"
    proc = subprocess.Popen(
        [sys.executable, str(script), "--port", "0", "--latency-ms", "1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("fake-openai listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1]
        r = httpx.post(
            url + "/chat/completions", json={"model": "m", "messages": MESSAGES}
        )
        assert r.status_code == 200
    finally:
        proc.terminate()
        assert proc.wait(timeout=5) == 0


# --- Misbehaviours: bad answers chosen explicitly (model suffix, header, config), never at random.


def _stream_events(server: FakeServer, model: str) -> tuple[list[str], httpx.Response]:
    body = {"model": model, "messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True}}
    r = _post(server, body)
    return [e.removeprefix("data: ") for e in r.text.split("\n\n") if e], r


def test_truncated_stream_stops_without_finish_reason_or_done(server: FakeServer) -> None:
    events, r = _stream_events(server, "m+truncated_stream")
    assert r.status_code == 200 and "[DONE]" not in events
    chunks = [json.loads(e) for e in events]
    assert chunks and all(c["choices"][0]["finish_reason"] is None for c in chunks)
    text = "".join(c["choices"][0]["delta"]["content"] for c in chunks)
    assert make_answer({"messages": MESSAGES}).startswith(text) and 0 < len(text) < len(
        make_answer({"messages": MESSAGES})
    )


def test_aborted_stream_drops_the_connection_mid_body(server: FakeServer) -> None:
    body = {"model": "m+aborted_stream", "messages": MESSAGES, "stream": True}
    with pytest.raises(httpx.RemoteProtocolError):
        _post(server, body)
    with pytest.raises(httpx.RemoteProtocolError):  # a plain body is cut off too
        _post(server, {"model": "m+aborted_stream", "messages": MESSAGES})


def test_empty_completion_and_empty_choices(server: FakeServer) -> None:
    plain = _post(server, {"model": "m+empty_completion", "messages": MESSAGES}).json()
    assert plain["choices"][0]["message"]["content"] == "" and plain["choices"][0]["finish_reason"] == "stop"
    events, _ = _stream_events(server, "m+empty_completion")
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]) == ""
    assert any(c["choices"] and c["choices"][0]["finish_reason"] == "stop" for c in chunks)
    assert _post(server, {"model": "m+empty_choices", "messages": MESSAGES}).json()["choices"] == []
    events, _ = _stream_events(server, "m+empty_choices")
    assert [json.loads(e)["choices"] for e in events[:-1]] == [[]] and events[-1] == "[DONE]"


def test_malformed_and_choiceless_bodies_are_200s(server: FakeServer) -> None:
    r = _post(server, {"model": "m+malformed_body", "messages": MESSAGES})
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()
    events, r = _stream_events(server, "m+malformed_body")
    assert r.status_code == 200 and events[-1] == "[DONE]"
    with pytest.raises(ValueError):
        json.loads(events[0])
    r = _post(server, {"model": "m+no_choices", "messages": MESSAGES})
    assert r.status_code == 200 and "choices" not in r.json() and r.json()["usage"]["total_tokens"] > 0


def test_a_model_suffix_with_a_count_misbehaves_that_many_times_then_answers(server: FakeServer) -> None:
    statuses = [_post(server, {"model": "m+error_500:2", "messages": MESSAGES}).status_code for _ in range(4)]
    assert statuses == [500, 500, 200, 200]
    # Counted per model name: another name starts its own count.
    assert _post(server, {"model": "n+error_500:1", "messages": MESSAGES}).status_code == 500
    assert server.stats()["calls_by_model"] == {"m+error_500:2": 4, "n+error_500:1": 1}


def test_header_and_config_select_a_misbehaviour(server: FakeServer) -> None:
    body = {"model": "m", "messages": MESSAGES}
    r = _post(server, body, headers={"X-Fake-Misbehave": "error_429"})
    assert r.status_code == 429 and r.headers["retry-after"] == "0"
    server.configure(misbehave="empty_choices:1", retry_after_s=2)
    assert _post(server, body).json()["choices"] == []
    assert _post(server, body).json()["choices"][0]["message"]["content"].startswith("fake answer")
    r = _post(server, {"model": "m+error_429", "messages": MESSAGES})
    assert r.status_code == 429 and r.headers["retry-after"] == "2"


def test_an_unknown_misbehaviour_is_refused_by_name(server: FakeServer) -> None:
    r = _post(server, {"model": "m+melt_down", "messages": MESSAGES})
    assert r.status_code == 400 and "melt_down" in r.json()["error"]["message"]
    base = server.url.removesuffix("/v1")
    r = httpx.post(base + "/_control", json={"misbehave": "melt_down"})
    assert r.status_code == 400 and "truncated_stream" in r.json()["error"]["message"]


def test_half_answer_cuts_the_answer_and_says_length(server: FakeServer) -> None:
    body = {"model": "m+half_answer", "messages": MESSAGES, "response_format": {"type": "json_object"}}
    choice = _post(server, body).json()["choices"][0]
    assert choice["finish_reason"] == "length" and choice["message"]["content"] == '{"answer": "fake"}'[:9]
    with pytest.raises(ValueError):
        json.loads(choice["message"]["content"])


# --- --timing-file: each chat-completions request's arrival and written answer, for bench/hop_timeline.py.


def test_the_cli_timing_file_has_one_line_per_completion_arrived_then_answered(tmp_path: Path) -> None:
    timing = tmp_path / "timing.log"
    script = Path(__file__).resolve().parents[2] / "bench" / "fake_openai.py"
    proc = subprocess.Popen([sys.executable, str(script), "--port", "0", "--latency-ms", "50", "--uvloop",
                             "--timing-file", str(timing)], stdout=subprocess.PIPE, text=True)
    spans = []
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip().rsplit(" ", 1)[1]
        with httpx.Client(timeout=10) as client:
            for _ in range(3):
                before = time.time()
                r = client.post(url + "/chat/completions", json={"model": "m", "messages": MESSAGES})
                spans.append((before, time.time()))
                assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"].startswith("fake")
            streamed = client.post(url + "/chat/completions", json={"model": "m", "messages": MESSAGES,
                                                                     "stream": True})
            assert streamed.status_code == 200 and streamed.text.rstrip().endswith("data: [DONE]")
            assert client.get(url.removesuffix("/v1") + "/health").status_code == 200  # not a completion: no line
            assert client.post(url + "/chat/completions", content=b"{not json",
                               headers={"content-type": "application/json"}).status_code == 400
    finally:
        proc.terminate()
        assert proc.wait(timeout=5) == 0
    lines = [tuple(map(float, line.split())) for line in timing.read_text().splitlines()]
    assert len(lines) == 5  # 3 answers, the stream, the 400
    for (before, after), (arrived, answered) in zip(spans, lines):
        assert before <= arrived and arrived + 0.05 <= answered
        assert answered <= after + 0.05  # written about when the client had it (clocks of one machine)
    assert lines[4][1] - lines[4][0] < 0.05  # the 400 came before the latency


def test_the_timing_middleware_takes_its_time_once_the_answer_is_written(tmp_path: Path) -> None:
    from aiohttp import web

    answers: list[web.StreamResponse] = []
    written: list[tuple[bool, str]] = []

    class Out:
        def write(self, line: str) -> None:  # when the middleware takes its time: was the answer written?
            written.append((answers[-1].prepared, line))

    app = make_app(FakeConfig(latency_ms=1))

    @web.middleware
    async def keep(request: web.Request, handler: Any) -> web.StreamResponse:
        response = await handler(request)
        answers.append(response)
        return response

    app.middlewares.append(keep)
    app.middlewares.insert(0, timing_middleware(Out()))

    async def scenario() -> tuple[int, dict[str, Any]]:
        runner, port = await _start(app, 0)
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                r = await client.post(f"http://127.0.0.1:{port}/v1/chat/completions",
                                      json={"model": "m", "messages": MESSAGES})
            return r.status_code, r.json()
        finally:
            await runner.cleanup()

    status, body = asyncio.run(scenario())
    assert status == 200 and body["choices"][0]["message"]["content"] == make_answer({"messages": MESSAGES})
    assert len(written) == 1 and written[0][0] is True
    arrived, answered = map(float, written[0][1].split())
    assert arrived + 0.001 <= answered
