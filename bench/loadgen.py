"""A light load generator for the published endpoint, in its own process (issue 16's measurement harness).

``clients`` keep-alive HTTP/1.1 connections, each making ``per_client`` sync calls back to back: the same request
a caller's software sends with httpx (``POST /api/v1/flows/<slug>/run``, ``Authorization: Bearer <key>``, a
compact JSON body with a distinct input per call, httpx's header set), written by a minimal asyncio client on
uvloop instead of httpx, so the harness takes less of the CPU the product is measured on and shares no GIL with
the fake model. A call counts when the answer is a 200 whose JSON body has ``"status": "succeeded"``; anything
else (another status, another body, a broken connection) is a failure, with its reason.

Driven by ``bench/published_path.py``: it starts this script, which imports what it needs and prints ``ready``;
it then reads one JSON line on stdin (``url``, ``key``, ``slug``, ``clients``, ``per_client``, ``tag``), runs the
level and prints one JSON line: ``clients``, ``requests``, ``ok``, ``failures``, ``wall`` (s), ``samples``
(seconds per successful call) and ``cpu_s`` (this process's CPU during the level, user + system).

    echo '{"url": "http://127.0.0.1:8000", "key": "...", "slug": "bench-chain3", "clients": 8,
           "per_client": 5, "tag": "x"}' | python bench/loadgen.py

With ``"mode": "timeline"`` in that line (``bench/hop_timeline.py``), it makes ``per_client`` calls of one client
instead, back to back on one keep-alive connection, and prints ``calls``: per call ``[input text, sent, answered,
run id]`` (``time.time()`` of this machine just before the request is written and just after its whole answer was
read), plus ``failures`` and ``cpu_s``; it stops at the first failure.
"""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import zlib
from typing import Any
from urllib.parse import urlparse


class Closed(Exception):
    """The server closed the connection before a whole answer arrived."""


class Connection:
    """One keep-alive HTTP/1.1 connection (reopened when the server closes it)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, data: bytes) -> tuple[int, dict[bytes, bytes], bytes]:
        """Send one whole request; (status, lower-cased headers, body) of its answer."""
        if self.writer is None:
            await self._open()
        assert self.reader is not None and self.writer is not None
        self.writer.write(data)
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            self.close()
            raise Closed("connection closed before the answer's head") from exc
        lines = head[:-4].split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        headers: dict[bytes, bytes] = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")  # no trailers expected: the final CRLF
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            body = b"".join(parts)
        elif b"content-length" in headers:
            body = await self.reader.readexactly(int(headers[b"content-length"]))
        else:  # the body ends with the connection
            body = await self.reader.read()
            self.close()
        encoding = headers.get(b"content-encoding", b"").lower()
        if encoding in (b"gzip", b"deflate"):
            body = zlib.decompress(body, 16 + zlib.MAX_WBITS if encoding == b"gzip" else zlib.MAX_WBITS)
        if headers.get(b"connection", b"").lower() == b"close":
            self.close()
        return status, headers, body


def request_bytes(host: str, port: int, path: str, key: str, payload: dict[str, Any]) -> bytes:
    """The request httpx sends for ``client.post(path, json=payload)`` (its header set, its compact JSON)."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\n"
            f"Connection: keep-alive\r\nUser-Agent: patchbay-bench-loadgen\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Length: {len(body)}\r\nContent-Type: application/json\r\n\r\n")
    return head.encode() + body


def verdict(status: int, headers: dict[bytes, bytes], body: bytes) -> str | None:
    """None for a successful sync call, else why not (as published_path's httpx level words it)."""
    parsed: dict[str, Any] = {}
    if headers.get(b"content-type", b"").startswith(b"application/json"):
        try:
            loaded = json.loads(body)
        except ValueError:
            loaded = {}
        parsed = loaded if isinstance(loaded, dict) else {}
    if status != 200 or parsed.get("status") != "succeeded":
        return f"{status} {parsed.get('status')} {parsed.get('error')}"
    return None


async def level(url: str, key: str, slug: str, clients: int, per_client: int, tag: str,
                timeout: float = 60.0) -> dict[str, Any]:
    """``clients`` keep-alive connections, each making ``per_client`` sync calls back to back."""
    where = urlparse(url)
    host, port = where.hostname or "127.0.0.1", where.port or 80
    path = f"/api/v1/flows/{slug}/run"
    samples: list[float] = []
    failures: list[str] = []

    async def one_client(index: int) -> None:
        connection = Connection(host, port)
        try:
            for n in range(per_client):
                data = request_bytes(host, port, path, key, {"input": {"text": f"{tag} {index} {n} {time.time()}"}})
                started = time.perf_counter()
                try:
                    async with asyncio.timeout(timeout):  # lighter than wait_for: no task per call
                        status, headers, body = await connection.request(data)
                except (TimeoutError, OSError, Closed, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                        ValueError) as exc:
                    connection.close()
                    failures.append(f"{type(exc).__name__}: {exc}")
                    continue
                elapsed = time.perf_counter() - started
                why = verdict(status, headers, body)
                if why is not None:
                    failures.append(why)
                    continue
                samples.append(elapsed)
        finally:
            connection.close()

    wall_started = time.perf_counter()
    await asyncio.gather(*(one_client(i) for i in range(clients)))
    wall = time.perf_counter() - wall_started
    return {"clients": clients, "requests": clients * per_client, "ok": len(samples), "failures": failures,
            "wall": wall, "samples": samples}


async def timeline(url: str, key: str, slug: str, calls: int, tag: str,
                   timeout: float = 60.0) -> dict[str, Any]:
    """One client's ``calls`` sync calls back to back on one keep-alive connection, each with its send and answer
    times (``time.time()``) and the run id of its answer; stops at the first failure (hop_timeline needs whole
    runs)."""
    where = urlparse(url)
    host, port = where.hostname or "127.0.0.1", where.port or 80
    path = f"/api/v1/flows/{slug}/run"
    connection = Connection(host, port)
    done: list[list[Any]] = []
    failures: list[str] = []
    try:
        try:  # connected before the first call is timed: every call's time is one request on a warm connection
            await connection._open()
        except OSError as exc:
            return {"calls": done, "failures": [f"{type(exc).__name__}: {exc}"]}
        for n in range(calls):
            text = f"{tag}-{n}-{time.time_ns()}"
            data = request_bytes(host, port, path, key, {"input": {"text": text}})
            try:
                async with asyncio.timeout(timeout):
                    sent = time.time()
                    status, headers, body = await connection.request(data)
                    answered = time.time()
            except (TimeoutError, OSError, Closed, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                    ValueError) as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
                break
            why = verdict(status, headers, body)
            if why is not None:
                failures.append(why)
                break
            answer = json.loads(body)
            done.append([text, sent, answered, str(answer.get("run_id") or answer.get("id"))])
    finally:
        connection.close()
    return {"calls": done, "failures": failures}


class Generator:
    """The caller's side: this script started in a process of its own, ready (its imports done) before the level
    it is handed is timed. One level (or timeline) per generator; ``close`` kills one that was never run."""

    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True)
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            self.close()
            raise RuntimeError("bench/loadgen.py did not start")

    def run(self, **order: Any) -> dict[str, Any]:
        """Hand it its level (``url``, ``key``, ``slug``, ``clients``, ``per_client``, ``tag``[, ``mode``]) and
        return what it printed; it must then exit."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(order) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        self.process.wait(timeout=30)
        if not line:
            raise RuntimeError(f"bench/loadgen.py ended without a result (exit {self.process.returncode})")
        result: dict[str, Any] = json.loads(line)
        return result

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def main() -> None:
    try:
        import uvloop
    except ImportError:  # the plain asyncio loop still measures correctly, at a little more CPU
        uvloop = None
    print("ready", flush=True)
    spec = json.loads(sys.stdin.readline())
    cpu_started = time.process_time()
    if spec.get("mode") == "timeline":
        coroutine = timeline(spec["url"], spec["key"], spec["slug"], spec["per_client"], spec["tag"])
    else:
        coroutine = level(spec["url"], spec["key"], spec["slug"], spec["clients"], spec["per_client"], spec["tag"])
    if uvloop is not None:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            result = runner.run(coroutine)
    else:
        result = asyncio.run(coroutine)
    result["cpu_s"] = time.process_time() - cpu_started
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
