"""One place builds the web server's command line; serve, the test stacks, fault drills, bench and the
container files use it (or, for the container files, the same flags)."""
from __future__ import annotations

import re
import shlex

from backend.config.web_cmd import ASGI_APP, web_argv

from ..conftest import ROOT


def test_the_web_server_is_uvicorn_on_uvloop_and_httptools() -> None:
    argv = web_argv(host="0.0.0.0", port=8123)
    assert argv[1:3] == ["-m", "uvicorn"] and argv[-1] == ASGI_APP
    assert argv[argv.index("--loop") + 1] == "uvloop" and argv[argv.index("--http") + 1] == "httptools"
    assert argv[argv.index("--host") + 1] == "0.0.0.0" and argv[argv.index("--port") + 1] == "8123"
    assert {"--no-access-log", "--no-proxy-headers"} <= set(argv)
    assert argv[argv.index("--lifespan") + 1] == "off"


def test_the_container_files_spell_the_same_flags() -> None:
    flags = web_argv(host="0.0.0.0", port=8000)[1:]  # without the interpreter
    compose = (ROOT / "docker-compose.yml").read_text()
    command = re.search(r"  web:\n(?:.*\n)*?    command: >-\n((?:      .*\n)+)", compose)
    assert command is not None
    assert shlex.split(command.group(1))[1:] == flags
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = re.search(r'^CMD \[(.*?)\]', dockerfile, re.S | re.M)
    assert cmd is not None
    assert [part.strip().strip('"') for part in cmd.group(1).replace("\\\n", "").split(",")][1:] == flags


def test_no_other_python_file_starts_daphne_or_uvicorn() -> None:
    spelled = re.compile(r'"-m",\s*"(daphne|uvicorn)"')
    allowed = {"web_cmd.py", "test_web_cmd.py", "_stack.py"}  # bench/_stack.py keeps Daphne for before/after baselines
    offenders = [str(path.relative_to(ROOT)) for top in ("backend", "tests", "bench")
                 for path in (ROOT / top).rglob("*.py") if path.name not in allowed and spelled.search(path.read_text())]
    assert offenders == []
