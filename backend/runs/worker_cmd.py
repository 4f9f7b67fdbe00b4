"""The one place that spells the Celery worker's command line (serve, the test stacks, the fault drills, bench).

Every worker runs the way production does: the threads pool (one process holds many runs, which mostly wait
on models) and no gossip or mingle (workers do not coordinate; the run supervisor recovers lost runs).
docker-compose.yml writes the same line in shell form; keep it in step with ``worker_argv``.
Django-free: tests and bench build the line before any settings are loaded.
"""
from __future__ import annotations

import sys

CELERY_APP = "backend.config"


def celery_argv(*, quiet: bool = False) -> list[str]:
    """``python -m celery -A backend.config`` with this interpreter; ``quiet`` drops the banner (it shows URLs)."""
    return [sys.executable, "-m", "celery", *(["--quiet"] if quiet else []), "-A", CELERY_APP]


def worker_argv(*, concurrency: int, queue: str | None = None, hostname: str | None = None,
                loglevel: str = "INFO", heartbeat: bool = True, quiet: bool = False) -> list[str]:
    """The worker command line. ``queue`` defaults to the app's (PATCHBAY_QUEUE in the worker's environment);
    ``heartbeat=False`` spares short-lived test workers the event chatter."""
    argv = [*celery_argv(quiet=quiet), "worker", "--pool", "threads", "--concurrency", str(concurrency),
            "--loglevel", loglevel, "--without-gossip", "--without-mingle"]
    if not heartbeat:
        argv.append("--without-heartbeat")
    if queue is not None:
        argv += ["--queues", queue]
    if hostname is not None:
        argv += ["--hostname", hostname]
    return argv
