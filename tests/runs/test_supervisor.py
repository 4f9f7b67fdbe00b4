"""serve's supervisor: a child that dies is restarted with backoff; SIGTERM stops everything."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil

from backend.runs.supervisor import Child, Supervisor

ROOT = Path(__file__).resolve().parents[2]
SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


def wait_until(condition, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_a_child_that_exits_is_restarted_with_growing_delays_and_the_others_keep_running() -> None:
    lines: list[str] = []
    crasher = Child("worker", [sys.executable, "-c", "import sys; sys.exit(3)"])
    steady = Child("web server", SLEEPER)
    supervisor = Supervisor([crasher, steady], env=dict(os.environ), log=lines.append, backoff_s=0.2,
                            max_backoff_s=0.8)
    supervisor.start_all()
    steady_pid = steady.process.pid  # type: ignore[union-attr]
    try:
        seen: list[int] = []
        deadline = time.monotonic() + 30
        while crasher.restarts < 4 and time.monotonic() < deadline:
            supervisor.poll()
            if crasher.process and crasher.process.pid not in seen:
                seen.append(crasher.process.pid)
            time.sleep(0.02)
        assert crasher.restarts >= 4 and len(seen) >= 4  # a new process each time
        delays = [float(line.rsplit(" in ", 1)[1].split()[0]) for line in lines if "restarting it in" in line]
        assert "exit code 3" in lines[0]
        assert delays[:4] == sorted(delays[:4]) and delays[0] < delays[3] <= 0.8 + 1e-9  # backoff, capped
        assert steady.process.pid == steady_pid and steady.process.poll() is None  # type: ignore[union-attr]
    finally:
        supervisor.stop_all(timeout_s=5)
    assert steady.process.poll() is not None  # type: ignore[union-attr]


def test_sigterm_stops_the_supervisor_and_every_child(tmp_path: Path) -> None:
    script = tmp_path / "supervise.py"
    script.write_text(textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(ROOT)!r})
        from backend.runs.supervisor import Child, Supervisor
        sleeper = {SLEEPER!r}
        s = Supervisor([Child("worker", sleeper), Child("beat", sleeper), Child("web", sleeper)],
                       env=dict(os.environ), log=print)
        s.start_all()
        print("children", *[c.process.pid for c in s.children], flush=True)
        s.run_until_signalled(interval_s=0.05)
        print("stopped", flush=True)
    """))
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(p) for p in process.stdout.readline().split()[1:]]  # type: ignore[union-attr]
        assert len(pids) == 3 and all(psutil.pid_exists(pid) for pid in pids)
        os.kill(pids[0], signal.SIGKILL)  # a child dying is not a reason to stop
        time.sleep(0.5)
        assert process.poll() is None
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        assert "stopped" in process.stdout.read()  # type: ignore[union-attr]

        def gone(pid: int) -> bool:
            try:
                return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
            except psutil.NoSuchProcess:
                return True

        wait_until(lambda: all(gone(pid) for pid in pids[1:]), timeout=10)
    finally:
        if process.poll() is None:
            process.kill()


def test_children_die_with_a_supervisor_killed_by_sigkill(tmp_path: Path) -> None:
    """kill -9 of serve must not leave a web server holding the port for the next `make run`."""
    script = tmp_path / "supervise.py"
    script.write_text(textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(ROOT)!r})
        from backend.runs.supervisor import Child, Supervisor
        s = Supervisor([Child("web", {SLEEPER!r})], env=dict(os.environ), log=print)
        s.start_all()
        print(s.children[0].process.pid, flush=True)
        s.run_until_signalled()
    """))
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    child = int(process.stdout.readline())  # type: ignore[union-attr]
    process.kill()
    process.wait()
    wait_until(lambda: not psutil.pid_exists(child) or psutil.Process(child).status() == psutil.STATUS_ZOMBIE)
