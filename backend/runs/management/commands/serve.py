"""Start Patchbay on one machine: prepare the database, then run and supervise its processes.

``make run`` is this command. Settings have already started (or reused) the embedded
PostgreSQL and Redis when DATABASE_URL / REDIS_URL are unset (backend/config/embedded.py),
so migrate and seed find them up. Then the web server, a Celery worker and celery beat run
as supervised children: one that exits on its own is restarted with backoff; Ctrl-C or
SIGTERM stops them all, and the embedded services with the last process that used them.
"""
from __future__ import annotations

import os
import socket
import time
import traceback
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from backend.config.embedded import (
    postgres_answers,
    redis_answers,
    redis_socket_path,
    start_postgres,
    start_redis,
)
from backend.config.web_cmd import web_argv
from backend.graphs.management.commands.ensure_first_user import (
    create_first_user,
    credentials_box,
    first_username,
    reset_hint,
)
from backend.runs.supervisor import Child, Supervisor
from backend.runs.worker_cmd import celery_argv, worker_argv


def refuse_busy_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host.strip("[]"), port))
        except OSError:
            raise CommandError(f"port {port} on {host} is already in use: stop what uses it, or start on "
                               f"another port with PORT=8001 make run") from None


READY_TIMEOUT_S = 90


def health_url(host: str, port: int) -> str:
    """Where serve asks whether the stack is ready; a wildcard bind is asked on loopback."""
    reach = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "[::]": "[::1]"}.get(host, host)
    if ":" in reach and not reach.startswith("["):
        reach = f"[{reach}]"
    return f"http://{reach}:{port}/api/health/"


def wait_until_ready(host: str, port: int, timeout_s: float = READY_TIMEOUT_S) -> bool:
    """``GET /api/health/`` says ready (the web serves, the database and Redis answer, a worker has said it takes
    tasks): only then is the banner the last thing printed. The same answer a load balancer waits on."""
    import httpx

    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            try:
                if client.get(health_url(host, port)).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass  # not listening yet
            time.sleep(0.1)
    return False


def children(host: str, port: int) -> list[Child]:
    return [
        # One process holds PATCHBAY_WORKER_CONCURRENCY runs at once; quiet: no banners over the credentials.
        Child("worker", worker_argv(concurrency=settings.PATCHBAY_WORKER_CONCURRENCY, loglevel="WARNING",
                                    quiet=True)),
        # Periodic tasks (settings.CELERY_BEAT_SCHEDULE); its state file is CELERY_BEAT_SCHEDULE_FILENAME.
        Child("beat", [*celery_argv(quiet=True), "beat", "--loglevel", "WARNING"]),
        Child("web server", web_argv(host=host, port=port)),
    ]


class Command(BaseCommand):
    help = ("Migrate, create the first user, seed, collect static files, then run and supervise the web server, "
            "a Celery worker and celery beat (with embedded PostgreSQL and Redis when their URLs are not set).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-prepare", action="store_true",
                            help="skip migrate, first user, seed and collectstatic (they ran already)")

    def say(self, line: str) -> None:
        self.stdout.write(f"[serve {time.strftime('%H:%M:%S')}] {line}")
        self.stdout.flush()

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = options["host"], options["port"]
        refuse_busy_port(host, port)
        created = None if options["no_prepare"] else self.prepare()
        supervisor = Supervisor(children(host, port), env={**os.environ, "PYTHONPATH": str(settings.BASE_DIR)},
                                log=self.say)
        started = time.monotonic()
        supervisor.start_all()
        if wait_until_ready(host, port):
            self.say(f"ready in {time.monotonic() - started:.1f} s (web server and worker; GET /api/health/)")
        else:
            self.say(f"the web server or the worker is not ready after {READY_TIMEOUT_S} s; still trying")
        self.stdout.write(f"\nPatchbay is running at http://{host}:{port}/  (Ctrl-C stops it)")
        if created:
            self.stdout.write(credentials_box(*created))
        else:
            self.stdout.write(reset_hint(first_username() or "admin"))
        self.stdout.flush()
        if settings.PATCHBAY_EMBEDDED_REDIS:
            supervisor.checks.append(self.keep_embedded_redis_up)
        if settings.PATCHBAY_EMBEDDED_DATABASE:
            supervisor.checks.append(self.keep_embedded_postgres_up)
        supervisor.run_until_signalled()
        self.say("stopped")

    def prepare(self) -> tuple[str, str] | None:
        """Everything a fresh clone (or an upgraded one) needs before serving; returns new credentials."""
        call_command("migrate", interactive=False, verbosity=0)
        created = create_first_user()
        try:
            call_command("seed", stdout=self.stdout)
            call_command("collectstatic", interactive=False, verbosity=0)
        except Exception as exc:
            # The first user's password is shown once: never let a traceback be the last thing on screen.
            traceback.print_exc()
            if created:
                self.stdout.write(credentials_box(*created))
            raise CommandError(f"start-up failed: {exc}") from None
        return created

    def keep_embedded_postgres_up(self) -> None:
        """Likewise the embedded PostgreSQL: the web server answers 503 and the worker retries meanwhile."""
        if not postgres_answers(os.environ["DATABASE_URL"], timeout=2):
            self.say("the embedded PostgreSQL is not answering; starting it again")
            try:
                start_postgres(Path(settings.DATA_DIR) / "postgres")
            except Exception as exc:  # tried again at the next check; serve itself must not die of it
                self.say(f"the embedded PostgreSQL did not start: {exc}")

    def keep_embedded_redis_up(self) -> None:
        """The embedded Redis is ours to supervise too: bring it back if it died (kill -9, OOM)."""
        sock = redis_socket_path(settings.DATA_DIR)
        if not redis_answers(f"unix://{sock}", timeout=1.0):
            self.say("the embedded Redis is not answering; starting it again")
            start_redis(Path(settings.DATA_DIR) / "redis", sock=sock)
