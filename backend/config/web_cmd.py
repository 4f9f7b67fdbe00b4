"""The one place that spells the web server's command line (serve, the test stacks, the fault drills, bench).

Uvicorn with uvloop and httptools serves the ASGI app (HTTP through Django, websockets through Channels):
on the published endpoint path it costs less CPU per request than Daphne on Twisted (bench/published_path.py).
Access logging is off (the app logs what matters, with request ids), and so is the lifespan protocol, which
Channels' router does not speak. Proxy headers are left to Django (``PATCHBAY_BEHIND_PROXY``), as with Daphne:
Uvicorn would otherwise rewrite the client address and scheme from X-Forwarded-* sent through 127.0.0.1. docker-compose.yml and the Dockerfile write the same line in shell form;
keep them in step with ``web_argv``. Django-free: callers build the line before any settings are loaded.
"""
from __future__ import annotations

import sys

ASGI_APP = "backend.config.asgi:application"
# An idle keep-alive connection stays open this long (Uvicorn's default, 5 s, closes connections a busy client or
# a load balancer with a 60 s idle timeout is about to reuse: the client sees a reset). Daphne kept them open.
KEEP_ALIVE_S = 75


def web_argv(*, host: str, port: int, log_level: str = "warning") -> list[str]:
    """``python -m uvicorn ...`` with this interpreter, serving the project's ASGI app on ``host:port``."""
    return [sys.executable, "-m", "uvicorn", "--host", host, "--port", str(port), "--loop", "uvloop",
            "--http", "httptools", "--ws", "websockets-sansio", "--lifespan", "off", "--no-access-log", "--no-proxy-headers",
            "--timeout-keep-alive", str(KEEP_ALIVE_S),
            "--log-level", log_level, ASGI_APP]
