"""bench/loadgen.py: the light load generator of bench/published_path.py sends what httpx sends and counts right."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

from bench.loadgen import Generator, level, request_bytes, timeline

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "loadgen.py"


async def _serve(handler: Any) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/api/v1/flows/{slug}/run", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


def test_the_request_is_the_one_httpx_sends() -> None:
    payload = {"input": {"text": "chain é 1 2 1700000000.5"}}
    sent = request_bytes("127.0.0.1", 8123, "/api/v1/flows/bench-chain3/run", "pb_key", payload)
    head, _, body = sent.partition(b"\r\n\r\n")
    reference = httpx.Client(base_url="http://127.0.0.1:8123", headers={"Authorization": "Bearer pb_key"}).build_request(
        "POST", "/api/v1/flows/bench-chain3/run", json=payload)
    assert body == reference.content
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /api/v1/flows/bench-chain3/run HTTP/1.1"
    ours = dict(line.split(b": ", 1) for line in lines[1:])
    theirs = dict(reference.headers.raw)
    assert set(ours) == set(theirs)
    assert {k: v for k, v in ours.items() if k != b"User-Agent"} == {
        k: v for k, v in theirs.items() if k != b"User-Agent"}


def test_a_level_counts_successes_and_every_kind_of_failure_on_keep_alive_connections() -> None:
    seen: list[dict[str, Any]] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        seen.append({"auth": request.headers.get("Authorization"), "text": body["input"]["text"],
                     "peer": request.transport.get_extra_info("peername") if request.transport else None})
        index, n = (int(x) for x in body["input"]["text"].split()[1:3])
        if (index, n) == (0, 1):
            return web.json_response({"status": "failed", "error": {"type": "model_error"}})
        if (index, n) == (1, 1):
            return web.json_response({"status": "error"}, status=503)
        if (index, n) == (2, 1):  # a body that is not JSON
            return web.Response(text="<html>oops", content_type="text/html")
        if index == 2 and n == 2:  # chunked, then the server closes the connection
            response = web.StreamResponse(headers={"Content-Type": "application/json", "Connection": "close"})
            response.enable_chunked_encoding()
            await response.prepare(request)
            await response.write(b'{"status": ')
            await response.write(b'"succeeded"}')
            await response.write_eof()
            return response
        await asyncio.sleep(0.01)
        return web.json_response({"status": "succeeded", "output": "x"})

    async def scenario() -> dict[str, Any]:
        runner, url = await _serve(handler)
        try:
            return await level(url, "pb_key", "bench-chain3", clients=3, per_client=4, tag="t")
        finally:
            await runner.cleanup()

    result = asyncio.run(scenario())
    assert result["requests"] == 12 and len(seen) == 12
    assert result["ok"] == 9 and len(result["samples"]) == 9
    assert all(0 < s < 5 for s in result["samples"])
    assert sum(s >= 0.01 for s in result["samples"]) == 8  # the answers that took 10 ms (all but the chunked one)
    assert sorted(result["failures"]) == ["200 None None", "200 failed {'type': 'model_error'}", "503 error None"]
    assert {s["auth"] for s in seen} == {"Bearer pb_key"}
    assert len({s["text"] for s in seen}) == 12  # a distinct input per call
    # keep-alive: one connection per client, and one more for the client whose connection the server closed
    assert len({s["peer"] for s in seen}) == 4


def test_a_refused_connection_is_a_failure_not_a_crash() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    result = asyncio.run(level(f"http://127.0.0.1:{port}", "k", "s", clients=2, per_client=2, tag="t"))
    assert result["ok"] == 0 and len(result["failures"]) == 4
    assert all("Error" in f for f in result["failures"])


def run_the_script(answer: dict[str, Any], **order: Any) -> dict[str, Any]:
    """Start the script as the benches do (``Generator``) against a server answering ``answer`` to every call,
    hand it ``order`` and return what it prints; it must exit 0."""
    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response(answer)

    loop = asyncio.new_event_loop()
    runner, url = loop.run_until_complete(_serve(handler))
    generator = Generator()  # the script says "ready" once its imports are done, or this raises
    try:
        # serve while the script runs its level
        result = loop.run_until_complete(asyncio.to_thread(
            generator.run, **{"url": url, "key": "k", "slug": "s", "tag": "t", **order}))
        assert generator.process.returncode == 0
        return result
    finally:
        generator.close()
        loop.run_until_complete(runner.cleanup())
        loop.close()


def test_the_script_says_ready_then_runs_one_level_and_reports_its_cpu() -> None:
    result = run_the_script({"status": "succeeded"}, clients=2, per_client=3)
    assert result["ok"] == 6 and result["failures"] == [] and len(result["samples"]) == 6
    assert result["cpu_s"] >= 0 and result["wall"] > 0


def test_the_fake_model_serves_on_uvloop_from_the_command_line() -> None:
    script = SCRIPT.parent / "fake_openai.py"
    proc = subprocess.Popen([sys.executable, str(script), "--port", "0", "--latency-ms", "1", "--uvloop"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip().rsplit(" ", 1)[1]
        r = httpx.post(url + "/chat/completions",
                       json={"model": "m", "messages": [{"role": "user", "content": "hi"}]})
        assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == "fake answer: hi"
    finally:
        proc.terminate()
        assert proc.wait(timeout=5) == 0


def test_timeline_mode_times_each_call_on_one_connection_and_stops_at_the_first_failure() -> None:
    seen: list[dict[str, Any]] = []

    async def handler(request: web.Request) -> web.Response:
        arrived = time.time()
        body = await request.json()
        seen.append({"arrived": arrived, "text": body["input"]["text"], "auth": request.headers.get("Authorization"),
                     "peer": request.transport.get_extra_info("peername") if request.transport else None})
        await asyncio.sleep(0.02)
        if body["input"]["text"].startswith("bad-2-"):
            return web.json_response({"status": "failed", "run_id": "r-bad"})
        return web.json_response({"status": "succeeded", "run_id": f"r-{len(seen)}"})

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        runner, url = await _serve(handler)
        try:
            return (await timeline(url, "pb_key", "bench-chain3", 4, "good"),
                    await timeline(url, "pb_key", "bench-chain3", 4, "bad"))
        finally:
            await runner.cleanup()

    good, bad = asyncio.run(scenario())
    assert good["failures"] == [] and len(good["calls"]) == 4
    assert [c[3] for c in good["calls"]] == ["r-1", "r-2", "r-3", "r-4"]
    for n, (call, request) in enumerate(zip(good["calls"], seen)):
        text, sent, answered, _ = call
        assert text == request["text"] and text.startswith(f"good-{n}-")
        assert sent <= request["arrived"] and request["arrived"] + 0.02 <= answered
    assert all(a[2] <= b[1] for a, b in zip(good["calls"], good["calls"][1:]))  # back to back, not overlapping
    assert len({s["peer"] for s in seen[:4]}) == 1 and {s["auth"] for s in seen} == {"Bearer pb_key"}
    # the third call of "bad" fails: two calls kept, none made after it
    assert [c[3] for c in bad["calls"]] == ["r-5", "r-6"] and bad["failures"] == ["200 failed None"]
    assert len(seen) == 7


def test_the_script_runs_a_timeline_when_asked() -> None:
    result = run_the_script({"status": "succeeded", "run_id": "r"}, clients=1, per_client=3, mode="timeline")
    assert result["failures"] == [] and [c[3] for c in result["calls"]] == ["r", "r", "r"]
    assert all(c[1] <= c[2] for c in result["calls"]) and result["cpu_s"] >= 0


def test_a_timeline_against_nothing_is_a_failure_not_a_crash() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = asyncio.run(timeline(f"http://127.0.0.1:{port}", "k", "s", 3, "t"))
    assert result["calls"] == [] and len(result["failures"]) == 1 and "Error" in result["failures"][0]
