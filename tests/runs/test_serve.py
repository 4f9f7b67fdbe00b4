"""`make run` as a user walks it: `manage.py serve` on a fresh data directory with nothing running.

Embedded PostgreSQL and Redis (private to the test's directory), the first user's credentials
printed last, sign-in through the session API, a run of an example graph, a killed worker that
serve restarts, a clean stop on SIGTERM, and a second start that says how to reset the password.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from backend.config.embedded import redis_answers, stop_postgres, stop_redis
from tests.config.test_embedded import embedded_env
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
CHAIN_INPUT = {"text": "I was charged twice, please refund one"}


class Serve:
    def __init__(self, data_dir: Path, port: int, log: Path) -> None:
        self.log = log
        self.process = subprocess.Popen([sys.executable, "manage.py", "serve", "--port", str(port)], cwd=ROOT,
                                        env=embedded_env(data_dir), stdout=log.open("w"), stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.log.read_text()

    def wait_for(self, needle: str, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while needle not in self.text():
            assert self.process.poll() is None, f"serve exited ({self.process.returncode}):\n{self.text()[-3000:]}"
            assert time.monotonic() < deadline, f"no {needle!r} after {timeout} s:\n{self.text()[-3000:]}"
            time.sleep(0.2)
        return self.text()

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def sign_in(client: httpx.Client, username: str, password: str) -> None:
    assert client.get("/api/session/").status_code == 200
    answer = client.post("/api/session/login/", json={"username": username, "password": password},
                         headers={"X-CSRFToken": client.cookies["csrftoken"]})
    assert answer.status_code == 200 and answer.json()["authenticated"] is True, answer.text


def run_chain(client: httpx.Client, graph_id: int, timeout: float = 90) -> dict:
    csrf = {"X-CSRFToken": client.cookies["csrftoken"]}
    run = client.post("/api/runs/", json={"graph": graph_id, "input": CHAIN_INPUT}, headers=csrf).json()
    deadline = time.monotonic() + timeout
    while run.get("status") not in ("succeeded", "failed", "cancelled") and time.monotonic() < deadline:
        time.sleep(0.2)
        run = client.get(f"/api/runs/{run['id']}/").json()
    return run


@pytest.mark.live
def test_make_run_on_a_fresh_data_dir_then_a_killed_worker_then_a_second_start(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "data", free_port()
    first = Serve(data_dir, port, tmp_path / "first.log")
    children: list[psutil.Process] = []
    try:
        output = first.wait_for("Patchbay is running at")
        # Credentials come after everything the children print at start-up: the last thing on screen.
        output = first.wait_for("changepassword admin")
        tail = output[output.index("Patchbay is running at"):]
        username = re.search(r"user:\s+(\S+)", tail).group(1)  # type: ignore[union-attr]
        password = re.search(r"password:\s+(\S+)", tail).group(1)  # type: ignore[union-attr]
        assert "Traceback" not in output
        # serve waited for GET /api/health/ (web, database, Redis and the worker ready) before the banner.
        assert re.search(r"ready in \d+\.\d s \(web server and worker", output), output[-2000:]
        children = psutil.Process(first.process.pid).children()
        kinds = sorted(next(k for k in ("worker", "beat", "uvicorn") if k in c.cmdline()) for c in children)
        assert kinds == ["beat", "uvicorn", "worker"]

        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            assert client.get("/").status_code == 200
            sign_in(client, username, password)
            spec = json.loads((ROOT / "graphs" / "chain.json").read_text())
            graph = client.post("/api/graphs/", json={"spec": spec, "message": "serve test"},
                                headers={"X-CSRFToken": client.cookies["csrftoken"]}).json()
            assert run_chain(client, graph["id"])["status"] == "succeeded"

            worker = next(c for c in children if "worker" in c.cmdline())
            worker.kill()
            first.wait_for("worker exited unexpectedly (killed by SIGKILL)", timeout=10)
            first.wait_for("starting worker again", timeout=30)
            run = run_chain(client, graph["id"])
            assert run["status"] == "succeeded", run

            # The embedded Redis is supervised too: killed, it is started again and runs go on.
            os.kill(int((data_dir / "redis" / "redis.pid").read_text()), signal.SIGKILL)
            first.wait_for("the embedded Redis is not answering; starting it again", timeout=15)
            run = run_chain(client, graph["id"])
            assert run["status"] == "succeeded", run
            children = psutil.Process(first.process.pid).children()
        assert first.stop() == 0
        assert not any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children)
        # The last user of the embedded services was serve: they stopped with it.
        assert not (data_dir / "postgres" / "postmaster.pid").exists()
        assert not redis_answers(f"unix://{data_dir / 'redis.sock'}")

        second = Serve(data_dir, port, tmp_path / "second.log")
        try:
            output = second.wait_for("manage.py changepassword admin")
            assert "password:" not in output  # no new user, no new password
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                sign_in(client, username, password)
        finally:
            assert second.stop() == 0
    finally:
        for process in [first.process, *children]:
            try:
                if process.poll() is None if isinstance(process, subprocess.Popen) else process.is_running():
                    os.kill(process.pid, signal.SIGKILL)
            except (psutil.Error, ProcessLookupError):
                pass
        stop_redis(data_dir / "redis")  # after a failure: never leave this test's servers running
        stop_postgres(data_dir / "postgres")
