"""Drive a freshly started `make run` the way a new user would, through the HTTP API.

Signs in with the credentials `make run` printed (session API, CSRF token from the cookie),
saves an example graph, runs it and waits for it to succeed; then SIGKILLs the Celery
worker that `serve` supervises and checks that serve restarts it and a second run succeeds.
Standard library plus psutil (in the project's venv). Exit status 0 means all of it worked.
"""
from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import signal
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import psutil


class Client:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def csrf(self) -> str:
        return next((c.value for c in self.jar if c.name == "csrftoken"), "")

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Content-Type": "application/json", "X-CSRFToken": self.csrf(), "Referer": self.base + "/"})
        try:
            with self.opener.open(request, timeout=30) as answer:
                raw, status = answer.read(), answer.status
        except urllib.error.HTTPError as err:
            raw, status = err.read(), err.code
        try:
            return status, json.loads(raw or b"null")
        except ValueError:
            return status, raw.decode(errors="replace")[:300]


def expect(ok: bool, what: str) -> None:
    if not ok:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


def credentials(log: str) -> tuple[str, str]:
    user = re.search(r"^\s*user:\s+(\S+)", log, re.M)
    password = re.search(r"^\s*password:\s+(\S+)", log, re.M)
    expect(bool(user and password), "the first user's credentials are in the output of make run")
    return user.group(1), password.group(1)  # type: ignore[union-attr]


def run_graph(client: Client, graph_id: int, run_input: dict[str, Any], timeout_s: float = 120) -> float:
    started = time.monotonic()
    status, run = client.call("POST", "/api/runs/", {"graph": graph_id, "input": run_input})
    expect(status in (200, 201, 202), f"POST /api/runs/ started a run (got {status}: {run})")
    while time.monotonic() - started < timeout_s:
        status, run = client.call("GET", f"/api/runs/{run['id']}/")
        if run.get("status") in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.25)
    expect(run.get("status") == "succeeded", f"the run succeeded (it is {run.get('status')}: {run.get('error')})")
    return time.monotonic() - started


def worker_process(serve_group: int) -> psutil.Process:
    """The Celery worker that `manage.py serve` (in the process group of `make run`) supervises."""
    for process in psutil.process_iter(["pid", "cmdline"]):
        try:
            if (process.info["cmdline"] or [])[-1:] == ["serve"] and os.getpgid(process.pid) == serve_group:
                for child in process.children():
                    if "worker" in child.cmdline():
                        return child
        except (psutil.Error, OSError):
            continue
    expect(False, "serve runs a Celery worker")
    raise AssertionError


SHARED_PORTS = {5432, 6379}  # the machine's PostgreSQL and Redis, if it has any


def app_processes(serve_group: int) -> list[psutil.Process]:
    """Every process `make run` started: its process group and their descendants (serve runs the web server,
    worker and beat in sessions of their own)."""
    found: dict[int, psutil.Process] = {}
    for process in psutil.process_iter(["pid"]):
        try:
            if os.getpgid(process.pid) == serve_group:
                found[process.pid] = process
                found.update((child.pid, child) for child in process.children(recursive=True))
        except (psutil.Error, OSError):
            continue
    return list(found.values())


def uses_only_its_own_services(serve_group: int, data_dir: str) -> None:
    """The app runs on the embedded PostgreSQL and Redis of its data directory: the URLs its processes were
    given are unix sockets there, and none of them holds a TCP connection to a PostgreSQL or Redis port."""
    processes = app_processes(serve_group)
    expect(len(processes) >= 4, f"make run started serve, web, worker and beat ({len(processes)} processes)")
    for process in processes:
        try:
            env, connections = process.environ(), process.net_connections(kind="inet")
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
        for name in ("DATABASE_URL", "REDIS_URL"):
            if name in env:
                expect(data_dir in env[name], f"{name} of pid {process.pid} points into {data_dir}: {env[name]}")
        shared = [c for c in connections if c.raddr and c.raddr.port in SHARED_PORTS]
        expect(not shared, f"pid {process.pid} ({' '.join(process.cmdline()[:3])}) talks to {shared}")
    print(f"{len(processes)} processes, all on the embedded services in {data_dir}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--serve-group", type=int, required=True)
    parser.add_argument("--graph", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--data-dir", required=True)
    args = parser.parse_args()
    client = Client(args.url)

    with urllib.request.urlopen(args.url + "/", timeout=30) as page:
        expect(page.status == 200 and b"<" in page.read(), "the page answers")
    username, password = credentials(Path(args.log).read_text())
    status, session = client.call("GET", "/api/session/")
    expect(status == 200 and bool(client.csrf()), "GET /api/session/ sets the csrftoken cookie")
    status, session = client.call("POST", "/api/session/login/", {"username": username, "password": password})
    expect(status == 200 and session.get("authenticated") is True, f"signed in as {username} ({status}: {session})")
    print(f"signed in as {username}")

    spec = json.loads(Path(args.graph).read_text())
    status, graph = client.call("POST", "/api/graphs/", {"spec": spec, "message": "fresh clone check"})
    expect(status in (200, 201), f"saved {args.graph} ({status}: {graph})")
    run_input = json.loads(args.input)
    print(f"run of {args.graph} succeeded in {run_graph(client, graph['id'], run_input):.1f} s")
    uses_only_its_own_services(args.serve_group, args.data_dir)

    worker = worker_process(args.serve_group)
    worker.send_signal(signal.SIGKILL)
    print(f"killed the worker (pid {worker.pid})")
    deadline = time.monotonic() + 60
    while "starting worker again" not in Path(args.log).read_text():
        expect(time.monotonic() < deadline, "serve restarted the killed worker within 60 s")
        time.sleep(0.25)
    print(f"run after the worker restart succeeded in {run_graph(client, graph['id'], run_input):.1f} s")


if __name__ == "__main__":
    main()
