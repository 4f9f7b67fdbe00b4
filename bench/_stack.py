"""Starting the real stack for a benchmark: a database, a Celery worker and the web server (Uvicorn, or Daphne as a baseline) as subprocesses."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]


_handed_out: set[int] = set()  # ports given to a process that may not listen yet


def free_port() -> int:
    """A free port: any, or one in ``BENCH_PORTS`` ("8300-8399") when several people share the machine."""
    low, _, high = os.environ.get("BENCH_PORTS", "").partition("-")
    for port in range(int(low), int(high) + 1) if low and high else [0]:
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            if port:
                _handed_out.add(port)
            return sock.getsockname()[1]
    raise RuntimeError(f"no free port in BENCH_PORTS={os.environ['BENCH_PORTS']}")


def wait_for_port(port: int, alive: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"the process meant to listen on port {port} exited")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listening on port {port} after {timeout}s")


class Child:
    """A subprocess whose output is drained into memory (kept for error messages and bench/out/)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], cwd: Path = ROOT):
        self.name = name
        self.lines: list[str] = []
        self.process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        threading.Thread(target=self._tail, daemon=True).start()

    def _tail(self) -> None:
        assert self.process.stdout is not None
        for raw in iter(self.process.stdout.readline, b""):
            self.lines.append(raw.decode(errors="replace").rstrip())

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, n: int = 30) -> str:
        return "\n".join(self.lines[-n:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def ensure_database(database_url: str, log: Callable[[str], None]) -> None:
    """Create the benchmark's PostgreSQL database if it does not exist."""
    url = urlparse(database_url)
    name = url.path.lstrip("/")
    conn = ["-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]
    found = subprocess.run(["psql", *conn, "-d", "postgres", "-tAc",
                            f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
                           capture_output=True, text=True, check=True).stdout.strip()
    if found != "1":
        log(f"creating database {name}")
        subprocess.run(["createdb", *conn, name], check=True)


def fake_model_on_migrated_database(database_url: str, redis_url: str,
                                    log: Callable[[str], None]) -> tuple[Child, str]:
    """The bench database created and migrated, and bench/fake_openai.py listening in a child process: (that
    child, its /v1 URL). The caller stops the child."""
    ensure_database(database_url, log)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True,
                   env={**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
                        "SECRET_KEY": "bench-only-not-secret", "LOG_LEVEL": "WARNING"})
    return fake_model_child()


def fake_model_child(*options: str) -> tuple[Child, str]:
    """bench/fake_openai.py listening in a process of its own, with command-line ``options`` (``--latency-ms``,
    ``--uvloop``, ``--timing-file``...): (that child, its /v1 URL). The caller stops the child."""
    port = free_port()
    fake = Child("fake model", [sys.executable, str(ROOT / "bench" / "fake_openai.py"), "--port", str(port),
                                *options], dict(os.environ))
    try:
        wait_for_port(port, fake.alive)
    except BaseException:
        fake.stop()
        raise
    return fake, f"http://127.0.0.1:{port}/v1"


def stack_env(database_url: str, redis_url: str, queue: str, data_dir: str) -> dict[str, str]:
    """The environment of the benchmark's worker and web server."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PATCHBAY_QUEUE": queue,
        "PATCHBAY_DATA_DIR": data_dir,  # keep the bench's secret key out of the repo
        "SECRET_KEY": "bench-only-not-secret",
        # A test session's own settings module (tests/settings.py) is kept; a bench run has none set.
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "backend.config.settings"),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }


def start_worker(env: dict[str, str], hostname: str, concurrency: int, cwd: Path = ROOT,
                 name: str = "celery worker") -> Child:
    """A Celery worker as production runs it: the threads pool, one shared run loop per process."""
    from backend.runs.worker_cmd import worker_argv

    return Child(name, worker_argv(concurrency=concurrency, hostname=hostname, loglevel="WARNING",
                                   heartbeat=False), env, cwd)


def web_argv(port: int, server: str = "uvicorn") -> list[str]:
    """The ASGI server's command line: the project's (backend/config/web_cmd.py), or Daphne for a baseline."""
    import sys

    if server == "daphne":
        return [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "backend.config.asgi:application"]
    from backend.config.web_cmd import web_argv as project_web_argv

    return project_web_argv(host="127.0.0.1", port=port)


def start_web(env: dict[str, str], cwd: Path = ROOT, server_kind: str = "uvicorn") -> tuple[Child, int]:
    """The ASGI app (as the project serves it, or Daphne) on a free port; returns once it listens."""
    port = free_port()
    server = Child("web server", web_argv(port, server_kind), env, cwd)
    try:
        wait_for_port(port, server.alive)
    except BaseException:
        server.stop()  # the caller never got it, so it cannot stop it
        raise
    return server, port


def require_alive(children: list[Child]) -> None:
    """A benchmark's numbers mean nothing if a process died under it."""
    for child in children:
        if not child.alive():
            raise RuntimeError(f"{child.name} exited:\n{child.tail()}")

