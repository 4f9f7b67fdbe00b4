"""A fake OpenAI-compatible chat-completions server bound to 127.0.0.1.

Integration tests and benchmarks point litellm at this server instead of a
mock object, so that litellm's real HTTP client, retry loop, timeouts, usage
accounting and SSE parsing are all exercised, without any network traffic
beyond loopback and without spending money.  Answers are deterministic, and
latency, error rates and hangs are configurable at runtime through a small
control plane (``POST /_control``, ``GET /_stats``, ``POST /_reset``).

Bad answers (see MISBEHAVIOURS) are chosen explicitly, never at random, by any of:

- the model name: ``gpt-4o-mini+truncated_stream`` misbehaves on every call to
  that name, ``gpt-4o-mini+truncated_stream:2`` on its first 2 calls only (then
  answers properly), so one model name scripts "fail N times, then succeed";
- a request header: ``X-Fake-Misbehave: empty_completion`` (same syntax);
- the config field ``misbehave`` (same syntax; ``:N`` counts calls since the
  last configure, like ``fail_first_n``).

Run it from a test with :func:`start_in_thread`, or standalone::

    python bench/fake_openai.py --port 8911 --latency-ms 100 [--uvloop] [--timing-file PATH]

(``--uvloop``: serve on uvloop's event loop, less CPU per call; benchmarks that measure the product under load
run it so, in its own process, off the GIL of their load generator. ``--timing-file``: append one line
``"<arrived> <answered>"`` per chat-completions request to PATH, both ``time.time()`` of this machine: arrived =
when the handler chain starts (headers parsed), answered = after the whole answer was handed to the transport;
only the command line has it, :func:`start_in_thread` and the tests' servers never do.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import signal
import threading
import time
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Self

from aiohttp import web


@dataclass
class FakeConfig:
    latency_ms: float = 0.0
    chunk_delay_ms: float = 0.0
    error_rate_429: float = 0.0
    error_rate_500: float = 0.0
    hang_rate: float = 0.0
    hang_seconds: float = 300.0
    fail_first_n: int = 0
    misbehave: str = ""  # "<name>" or "<name>:<first N calls>", see MISBEHAVIOURS
    retry_after_s: float = 0.0  # the Retry-After header sent with 429s
    seed: int = 0


# What a provider can get wrong while answering 200 (plus plain error statuses).
MISBEHAVIOURS = {
    "truncated_stream": "a stream that stops after half the deltas: no finish_reason, no [DONE], clean end",
    "aborted_stream": "half the answer, then the connection is dropped (stream or plain body)",
    "empty_completion": "content \"\" with finish_reason stop",
    "half_answer": "the first half of the answer (JSON that does not parse) with finish_reason length",
    "empty_choices": "a body (or stream) whose choices list is empty",
    "malformed_body": "200 with a body that is not JSON (a stream: data lines that are not JSON)",
    "no_choices": "200 with JSON that has no choices key",
    "error_500": "an OpenAI-shaped 500",
    "error_429": "an OpenAI-shaped 429 with Retry-After",
    "error_echo_key": "a 401 whose message repeats the Authorization header it got, as careless servers do",
}
MISBEHAVE_HEADER = "X-Fake-Misbehave"


# Cast control-plane values to each field's default type so a bad value is
# rejected with a 400 at /_control instead of breaking later requests.
_CONFIG_TYPES = {f.name: type(f.default) for f in fields(FakeConfig)}


def _error(
    status: int,
    message: str,
    type_: str,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body = {"error": {"message": message, "type": type_, "param": None, "code": code}}
    return web.json_response(body, status=status, headers=headers)


def schema_instance(schema: Any) -> Any:
    """Return a minimal value valid against a (simple) JSON schema."""
    if not isinstance(schema, dict):
        return None
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return schema_instance(schema[key][0])
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(part)
        return schema_instance(merged)
    type_ = schema.get("type")
    if isinstance(type_, list):
        # Prefer a non-null type so nullable fields still carry a value.
        type_ = next((t for t in type_ if t != "null"), "null")
    if type_ is None:
        type_ = "object" if "properties" in schema else "string"
    if type_ == "object":
        props = schema.get("properties", {})
        names = list(props) + [n for n in schema.get("required", []) if n not in props]
        return {n: schema_instance(props.get(n, {"type": "string"})) for n in names}
    if type_ == "array":
        item = schema_instance(schema.get("items", {"type": "string"}))
        return [item] * max(schema.get("minItems", 1), 1)
    if type_ == "string":
        return "fake"
    if type_ in ("integer", "number"):
        if "minimum" in schema:
            return schema["minimum"]
        if "exclusiveMinimum" in schema:
            # Draft 4 uses a boolean flag, later drafts a number.
            excl = schema["exclusiveMinimum"]
            base = schema.get("minimum", 0) if isinstance(excl, bool) else excl
            return base + 1
        return 0
    if type_ == "boolean":
        return True
    return None


def parse_misbehave(value: str) -> tuple[str, int | None]:
    """``"name"`` -> (name, None: always); ``"name:2"`` -> (name, 2: the first 2 calls)."""
    name, _, count = value.partition(":")
    if name not in MISBEHAVIOURS:
        raise ValueError(f"unknown misbehaviour {name!r} (known: {', '.join(MISBEHAVIOURS)})")
    return name, int(count) if count else None


def _text(content: Any) -> str:
    # Content may be a list of parts (multimodal messages); only text counts.
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content if isinstance(content, str) else ""


def make_answer(body: dict[str, Any]) -> str:
    """The deterministic reply content for a chat-completions request body."""
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema", {})
        return json.dumps(schema_instance(schema))
    if fmt.get("type") == "json_object":
        return json.dumps({"answer": "fake"})
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    last = _text(users[-1].get("content")) if users else ""
    return "fake answer: " + last[:60]


def _usage(messages: list[dict[str, Any]], answer: str) -> dict[str, int]:
    prompt = sum(len(_text(m.get("content")).split()) + 3 for m in messages)
    prompt = max(prompt, 1)
    completion = max(len(answer.split()), 1)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


class _State:
    """Config and counters; only ever touched from the server's event loop."""

    def __init__(self, config: FakeConfig, api_key: str | None) -> None:
        self.api_key = api_key
        self.seq = 0
        self.configure(config)
        self.reset_stats()

    def configure(self, config: FakeConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.since_config = 0

    def update(self, changes: dict[str, Any]) -> None:
        unknown = set(changes) - set(_CONFIG_TYPES)
        if unknown:
            raise ValueError(f"unknown config fields: {sorted(unknown)}")
        typed = {k: _CONFIG_TYPES[k](v) for k, v in changes.items()}
        if typed.get("misbehave"):
            parse_misbehave(typed["misbehave"])  # reject a typo here, not on every later request
        self.configure(replace(self.config, **typed))

    def reset_stats(self) -> None:
        # in_flight survives a reset: those requests are still really running.
        in_flight = getattr(self, "in_flight", 0)
        self.requests = 0
        self.by_status: dict[str, int] = {"200": 0, "429": 0, "500": 0}
        self.hung = 0
        self.calls_by_model: dict[str, int] = {}
        self.in_flight = in_flight
        self.max_in_flight = in_flight

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "by_status": dict(self.by_status),
            "hung": self.hung,
            "calls_by_model": dict(self.calls_by_model),
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
        }


STATE = web.AppKey("state", _State)


async def _completions(request: web.Request) -> web.StreamResponse:
    state: _State = request.app[STATE]
    state.requests += 1
    state.in_flight += 1
    state.max_in_flight = max(state.max_in_flight, state.in_flight)
    resp: web.StreamResponse | None = None
    try:
        resp = await _answer(request, state)
        return resp
    finally:
        state.in_flight -= 1
        status = str(resp.status if resp is not None else 499)  # 499: client went away
        state.by_status[status] = state.by_status.get(status, 0) + 1


async def _answer(request: web.Request, state: _State) -> web.StreamResponse:
    if (
        state.api_key
        and request.headers.get("Authorization") != f"Bearer {state.api_key}"
    ):
        return _error(
            401,
            "Incorrect API key provided.",
            "invalid_request_error",
            "invalid_api_key",
        )
    try:
        body = await request.json()
    except ValueError:
        return _error(
            400,
            "We could not parse the JSON body of your request.",
            "invalid_request_error",
        )
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        return _error(
            400, "'messages' is a required property.", "invalid_request_error"
        )

    # Decide the outcome on arrival so it depends only on request order + seed.
    cfg = state.config
    state.since_config += 1
    state.seq += 1
    draw = state.rng.random()
    model = str(body.get("model", ""))
    state.calls_by_model[model] = state.calls_by_model.get(model, 0) + 1
    try:
        chosen = _chosen_misbehaviour(request, state, model)
    except ValueError as exc:
        return _error(400, str(exc), "invalid_request_error")
    if chosen is not None:
        await asyncio.sleep(cfg.latency_ms / 1000)
        return await _misbehave(chosen, request, body, state)
    if state.since_config <= cfg.fail_first_n:
        return _error(500, "Injected failure (fail_first_n).", "server_error")
    if draw < cfg.hang_rate:
        state.hung += 1
        await asyncio.sleep(cfg.hang_seconds)
        return _error(500, "Hung request gave up.", "server_error")
    draw -= cfg.hang_rate
    await asyncio.sleep(cfg.latency_ms / 1000)
    if draw < cfg.error_rate_429:
        return _error(
            429,
            "Rate limit reached (injected).",
            "requests",
            "rate_limit_exceeded",
            headers={"retry-after": f"{cfg.retry_after_s:g}"},
        )
    if draw - cfg.error_rate_429 < cfg.error_rate_500:
        return _error(500, "The server had an error (injected).", "server_error")

    answer = make_answer(body)
    usage = _usage(body["messages"], answer)
    base = _base(body, state)
    if not body.get("stream"):
        return web.json_response(
            {
                **base,
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "logprobs": None,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": answer},
                    }
                ],
                "usage": usage,
            }
        )
    include_usage = (body.get("stream_options") or {}).get("include_usage", False)
    return await _stream(request, base, answer, usage if include_usage else None, cfg)


def _base(body: dict[str, Any], state: _State) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-fake-{state.seq}",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "system_fingerprint": "fp_fake",
    }


def _chosen_misbehaviour(request: web.Request, state: _State, model: str) -> str | None:
    """The misbehaviour this request gets, if any: model suffix, then header, then config."""
    if "+" in model:
        name, first_n = parse_misbehave(model.rsplit("+", 1)[1])
        if first_n is None or state.calls_by_model[model] <= first_n:
            return name
    header = request.headers.get(MISBEHAVE_HEADER)
    if header:
        return parse_misbehave(header)[0]
    if state.config.misbehave:
        name, first_n = parse_misbehave(state.config.misbehave)
        if first_n is None or state.since_config <= first_n:
            return name
    return None


def _abort(request: web.Request) -> None:
    # Drop the TCP connection mid-body: the client sees an incomplete chunked/sized body.
    if request.transport is not None:
        request.transport.abort()


async def _misbehave(
    name: str, request: web.Request, body: dict[str, Any], state: _State
) -> web.StreamResponse:
    if name == "error_500":
        return _error(500, "The server had an error (injected).", "server_error")
    if name == "error_echo_key":
        sent = request.headers.get("Authorization", "")
        return _error(401, f"Incorrect API key provided: {sent.removeprefix('Bearer ')}.",
                      "invalid_request_error", "invalid_api_key")
    if name == "error_429":
        return _error(
            429,
            "Rate limit reached (injected).",
            "requests",
            "rate_limit_exceeded",
            headers={"retry-after": f"{state.config.retry_after_s:g}"},
        )
    base = _base(body, state)
    answer = make_answer(body)
    usage = _usage(body["messages"], answer)
    if body.get("stream"):
        return await _misbehaving_stream(name, request, base, answer, usage)
    if name == "malformed_body":
        return web.Response(
            status=200, text="<html>upstream hiccup", content_type="application/json"
        )
    if name == "no_choices":
        return web.json_response({**base, "object": "chat.completion", "usage": usage})
    if name == "aborted_stream":
        full = json.dumps({**base, "object": "chat.completion", "choices": []}).encode()
        resp = web.StreamResponse(
            headers={"Content-Type": "application/json", "Content-Length": str(len(full))}
        )
        await resp.prepare(request)
        await resp.write(full[: len(full) // 2])
        _abort(request)
        return resp
    content = {"empty_completion": "", "half_answer": answer[: len(answer) // 2]}.get(
        name, answer  # truncated_stream: not a stream, answered whole
    )
    finish = "length" if name == "half_answer" else "stop"
    choices = (
        []
        if name == "empty_choices"
        else [
            {
                "index": 0,
                "logprobs": None,
                "finish_reason": finish,
                "message": {"role": "assistant", "content": content},
            }
        ]
    )
    return web.json_response(
        {**base, "object": "chat.completion", "choices": choices, "usage": usage}
    )


async def _misbehaving_stream(
    name: str,
    request: web.Request,
    base: dict[str, Any],
    answer: str,
    usage: dict[str, int],
) -> web.StreamResponse:
    resp = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await resp.prepare(request)

    async def send(data: str) -> None:
        await resp.write(f"data: {data}\n\n".encode())

    def chunk(choices: list[dict[str, Any]], **extra: Any) -> str:
        return json.dumps({**base, "object": "chat.completion.chunk", "choices": choices, **extra})

    pieces = re.findall(r"\S+\s*", answer) or [answer]
    half = pieces[: max(1, len(pieces) // 2)]
    if name in ("truncated_stream", "aborted_stream"):
        for i, piece in enumerate(half):
            delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
            await send(chunk([{"index": 0, "delta": delta, "finish_reason": None}]))
        if name == "aborted_stream":
            _abort(request)
            return resp
        await resp.write_eof()  # a clean end of the body, without finish_reason or [DONE]
        return resp
    if name == "half_answer":
        delta = {"role": "assistant", "content": answer[: len(answer) // 2]}
        await send(chunk([{"index": 0, "delta": delta, "finish_reason": None}]))
        await send(chunk([{"index": 0, "delta": {}, "finish_reason": "length"}]))
    elif name == "empty_completion":
        await send(chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]))
        await send(chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}]))
        await send(chunk([], usage={**usage, "completion_tokens": 0,
                                    "total_tokens": usage["prompt_tokens"]}))
    elif name == "empty_choices":
        await send(chunk([], usage=usage))
    elif name == "malformed_body":
        await send('{"id": "chatcmpl-broken", "choices": [{"delta": ')
        await send("upstream hiccup")
    elif name == "no_choices":
        await send(json.dumps({**base, "object": "chat.completion.chunk"}))
    await send("[DONE]")
    await resp.write_eof()
    return resp


async def _stream(
    request: web.Request,
    base: dict[str, Any],
    answer: str,
    usage: dict[str, int] | None,
    cfg: FakeConfig,
) -> web.StreamResponse:
    resp = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await resp.prepare(request)

    async def send(choices: list[dict[str, Any]], **extra: Any) -> None:
        chunk = {**base, "object": "chat.completion.chunk", "choices": choices, **extra}
        await resp.write(f"data: {json.dumps(chunk)}\n\n".encode())

    # Keep trailing whitespace on each piece so the pieces re-join exactly.
    pieces = re.findall(r"\S+\s*", answer) or [answer]
    for i, piece in enumerate(pieces):
        if i and cfg.chunk_delay_ms:
            await asyncio.sleep(cfg.chunk_delay_ms / 1000)
        delta = (
            {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
        )
        await send([{"index": 0, "delta": delta, "finish_reason": None}])
    await send([{"index": 0, "delta": {}, "finish_reason": "stop"}])
    if usage is not None:
        await send([], usage=usage)
    await resp.write(b"data: [DONE]\n\n")
    await resp.write_eof()
    return resp


async def _control(request: web.Request) -> web.Response:
    state: _State = request.app[STATE]
    try:
        changes = await request.json()
        if not isinstance(changes, dict):
            raise TypeError("expected a JSON object of FakeConfig fields")
        state.update(changes)
    except (ValueError, TypeError) as exc:
        return _error(400, str(exc), "invalid_request_error")
    return web.json_response(asdict(state.config))


async def _stats(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE].stats())


async def _reset(request: web.Request) -> web.Response:
    request.app[STATE].reset_stats()
    return web.json_response(request.app[STATE].stats())


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@web.middleware
async def _openai_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    # Clients (and tests) expect OpenAI's error shape, never aiohttp's HTML/traceback.
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _error(exc.status, exc.reason, "invalid_request_error")
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - the fake must never leak a traceback
        return _error(500, f"fake server bug: {exc!r}", "server_error")


def make_app(
    config: FakeConfig | None = None, api_key: str | None = None
) -> web.Application:
    app = web.Application(middlewares=[_openai_errors])
    app[STATE] = _State(config or FakeConfig(), api_key)
    for path in ("/v1/chat/completions", "/chat/completions"):
        app.router.add_post(path, _completions)
    app.router.add_post("/_control", _control)
    app.router.add_get("/_stats", _stats)
    app.router.add_post("/_reset", _reset)
    app.router.add_get("/health", _health)
    return app


async def _start(app: web.Application, port: int) -> tuple[web.AppRunner, int]:
    # handler_cancellation: a hung request must end when its client gives up,
    # otherwise in_flight stays high and stop() waits for hang_seconds.
    runner = web.AppRunner(
        app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
    )
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, runner.addresses[0][1]


class FakeServer:
    """Handle on a server running in a background thread (see start_in_thread)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        thread: threading.Thread,
        runner: web.AppRunner,
        port: int,
    ) -> None:
        self._loop, self._thread, self._runner = loop, thread, runner
        self.port = port
        self.url = f"http://127.0.0.1:{port}/v1"
        self._state: _State = runner.app[STATE]

    def _call(self, fn: Any, *args: Any) -> Any:
        # State belongs to the server loop; run mutations there, not in this thread.
        async def run() -> Any:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=5)

    def configure(self, **changes: Any) -> None:
        self._call(self._state.update, changes)

    def stats(self) -> dict[str, Any]:
        return self._call(self._state.stats)

    def reset_stats(self) -> None:
        self._call(self._state.reset_stats)

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(
            timeout=10
        )
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_in_thread(
    config: FakeConfig | None = None, port: int = 0, api_key: str | None = None
) -> FakeServer:
    """Start the server on its own loop in a daemon thread; return once listening."""
    loop = asyncio.new_event_loop()
    started: dict[str, Any] = {}
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            started["result"] = loop.run_until_complete(
                _start(make_app(config, api_key), port)
            )
        except OSError as exc:  # e.g. port in use: re-raised in the caller's thread
            started["error"] = exc
        finally:
            ready.set()
        if "result" in started:
            loop.run_forever()
        loop.close()

    thread = threading.Thread(target=run, name="fake-openai", daemon=True)
    thread.start()
    if not ready.wait(timeout=10):
        raise RuntimeError("fake OpenAI server did not start within 10 s")
    if "error" in started:
        raise started["error"]
    if "result" not in started:
        raise RuntimeError("fake OpenAI server failed to start (see thread traceback)")
    runner, bound = started["result"]
    return FakeServer(loop, thread, runner, bound)


def timing_middleware(out: Any) -> Any:
    """A middleware that writes ``"<arrived> <answered>\\n"`` to ``out`` (a text file) for every chat-completions
    request. The answer is prepared and its end written here, before the time is taken: aiohttp would otherwise
    write it only after every middleware returned (its own prepare/write_eof then see a finished response and do
    nothing), so "answered" is the moment the last byte went to the transport, not when the handler returned."""

    @web.middleware
    async def timed(request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.path.endswith("/chat/completions"):
            return await handler(request)
        arrived = time.time()
        try:
            response = await handler(request)
            if not response.prepared:
                await response.prepare(request)
            await response.write_eof()
            return response
        finally:
            out.write(f"{arrived:.6f} {time.time():.6f}\n")

    return timed


async def _serve_forever(config: FakeConfig, port: int, api_key: str | None, timing_file: str | None = None) -> None:
    app = make_app(config, api_key)
    timing = open(timing_file, "a", buffering=1) if timing_file else None  # line-buffered: readable at once
    if timing is not None:
        app.middlewares.insert(0, timing_middleware(timing))
    runner, bound = await _start(app, port)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    print(f"fake-openai listening on http://127.0.0.1:{bound}/v1", flush=True)
    await stop.wait()
    await runner.cleanup()
    if timing is not None:
        timing.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8911, help="0 picks a free port")
    parser.add_argument("--api-key", default=None, help="require this bearer token")
    for name in (
        "latency_ms",
        "chunk_delay_ms",
        "error_rate_429",
        "error_rate_500",
        "hang_rate",
        "hang_seconds",
    ):
        parser.add_argument(
            "--" + name.replace("_", "-"), type=float, default=getattr(FakeConfig, name)
        )
    parser.add_argument("--fail-first-n", type=int, default=0)
    parser.add_argument("--retry-after-s", type=float, default=0.0)
    parser.add_argument(
        "--misbehave", default="", help="one of: " + ", ".join(MISBEHAVIOURS) + " (optionally :N)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--uvloop", action="store_true", help="serve on uvloop's event loop")
    parser.add_argument("--timing-file", default=None,
                        help="append '<arrived> <answered>' (time.time()) per chat-completions request to this file")
    args = vars(parser.parse_args(argv))
    port, api_key, use_uvloop = args.pop("port"), args.pop("api_key"), args.pop("uvloop")
    timing_file = args.pop("timing_file")
    serve = _serve_forever(FakeConfig(**args), port, api_key, timing_file)
    if use_uvloop:
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(serve)
    else:
        asyncio.run(serve)


if __name__ == "__main__":
    main()
