"""One place builds the Celery worker command line; serve, the test stacks, fault drills and bench use it."""
from __future__ import annotations

import re

from backend.runs.worker_cmd import worker_argv

from ..conftest import ROOT


def test_the_worker_runs_the_threads_pool_with_the_given_options() -> None:
    argv = worker_argv(concurrency=7, queue="q1", hostname="h@%h", loglevel="WARNING", heartbeat=False)
    assert argv[argv.index("--pool") + 1] == "threads"
    assert argv[argv.index("--concurrency") + 1] == "7"
    assert argv[argv.index("--queues") + 1] == "q1"
    assert argv[argv.index("--hostname") + 1] == "h@%h"
    assert argv[argv.index("--loglevel") + 1] == "WARNING"
    assert {"--without-gossip", "--without-mingle", "--without-heartbeat"} <= set(argv)
    assert "--without-heartbeat" not in worker_argv(concurrency=1)
    assert "--quiet" in worker_argv(concurrency=1, quiet=True)


def test_no_other_python_file_spells_the_worker_command() -> None:
    spelled = re.compile(r'"worker",\s*"--pool"')
    offenders = [str(path.relative_to(ROOT)) for top in ("backend", "tests", "bench")
                 for path in (ROOT / top).rglob("*.py")
                 if path.name not in ("worker_cmd.py", "test_worker_cmd.py") and spelled.search(path.read_text())]
    assert offenders == []


def test_the_compose_worker_spells_the_same_pool_and_start_flags() -> None:
    compose = (ROOT / "docker-compose.yml").read_text()
    command = re.search(r"  worker:\n(?:.*\n)*?    command: sh -c '(.*)'", compose)
    assert command is not None
    spelled = command.group(1).split()
    assert spelled[:4] == ["celery", "-A", "backend.config", "worker"]
    argv = worker_argv(concurrency=1)
    for flag in ("--pool", "--without-gossip", "--without-mingle"):  # mingle and gossip slow every start
        assert flag in spelled and flag in argv
    assert spelled[spelled.index("--pool") + 1] == argv[argv.index("--pool") + 1]
