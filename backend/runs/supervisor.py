"""Keep a few child processes running: restart one that exits on its own, with backoff; stop all on request.

Used by ``manage.py serve`` for the web server, the Celery worker and celery beat. A worker that
dies (say, kombu giving up on a Redis that restarted) comes back on its own instead of taking
the whole app down; Ctrl-C or SIGTERM still stops everything, in reverse start order.
"""
from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Run in the child before exec: get SIGTERM if the supervisor itself is killed (Linux)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    failures: int = 0  # exits in a row that came soon after a start
    restart_at: float | None = None
    restarts: int = 0


@dataclass
class Supervisor:
    children: list[Child]
    env: dict[str, str]
    log: Callable[[str], None]
    backoff_s: float = 1.0  # first restart delay; doubles with each quick failure
    max_backoff_s: float = 30.0
    stable_after_s: float = 60.0  # a child that ran this long starts again with the shortest delay
    checks: list[Callable[[], None]] = field(default_factory=list)  # run every check_every_s (embedded Redis)
    check_every_s: float = 2.0
    stopping: bool = field(default=False, init=False)

    def start(self, child: Child) -> None:
        # Own session: a Ctrl-C in the terminal reaches only the supervisor, which then stops the
        # children in order (the web server before the worker it feeds, the worker before Redis).
        child.process = subprocess.Popen(list(child.argv), env=self.env, start_new_session=True,
                                         preexec_fn=_die_with_parent)
        child.started_at = time.monotonic()
        child.restart_at = None

    def start_all(self) -> None:
        for child in self.children:
            self.start(child)

    def poll(self) -> None:
        """Notice exits and start what is due; call it often."""
        now = time.monotonic()
        for child in self.children:
            if self.stopping:
                return
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restarts += 1
                    self.log(f"starting {child.name} again (restart {child.restarts})")
                    self.start(child)
                continue
            code = child.process.poll() if child.process else None
            if code is None:
                continue
            child.failures = 1 if now - child.started_at >= self.stable_after_s else child.failures + 1
            delay = min(self.max_backoff_s, self.backoff_s * 2 ** (child.failures - 1))
            child.restart_at = now + delay
            self.log(f"{child.name} exited unexpectedly ({_describe(code)}); restarting it in {delay:.1f} s")

    def stop_all(self, timeout_s: float = 15.0) -> None:
        self.stopping = True
        running = [c.process for c in reversed(self.children) if c.process and c.process.poll() is None]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + timeout_s
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def run_checks(self) -> None:
        for check in self.checks:
            try:
                check()
            except Exception as exc:  # a failed check is reported and tried again, never fatal
                self.log(f"{getattr(check, '__name__', 'check')} failed: {exc}")

    def run_until_signalled(self, interval_s: float = 0.2) -> None:
        """Supervise until SIGINT or SIGTERM, then stop every child."""

        def request_stop(signum: int, _frame: object) -> None:
            self.stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        next_check = time.monotonic() + self.check_every_s
        try:
            while not self.stopping:
                self.poll()
                if self.checks and time.monotonic() >= next_check:
                    self.run_checks()
                    next_check = time.monotonic() + self.check_every_s
                time.sleep(interval_s)
        finally:
            self.stop_all()


def _describe(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"
