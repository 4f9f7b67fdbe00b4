"""Settings come from the environment; a bad value stops start-up with the variable's name."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from backend.config.env import database_from_url, env_bool, env_int, redis_endpoints

ROOT = Path(__file__).resolve().parents[2]


def test_booleans_accept_the_usual_words_and_refuse_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLAG", "yes")
    assert env_bool("FLAG") is True
    monkeypatch.setenv("FLAG", "off")
    assert env_bool("FLAG", True) is False
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG='maybe'"):
        env_bool("FLAG")


def test_integers_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("N", "12")
    assert env_int("N", 1) == 12
    monkeypatch.setenv("N", "twelve")
    with pytest.raises(ImproperlyConfigured, match="whole number"):
        env_int("N", 1)
    monkeypatch.setenv("N", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("N", 1, minimum=1)


def test_database_urls() -> None:
    pg = database_from_url("postgres://app:s%40cret@db.internal:6543/patchbay?sslmode=require")
    assert (pg["ENGINE"], pg["NAME"], pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"]) == (
        "django.db.backends.postgresql", "patchbay", "app", "s@cret", "db.internal", "6543")
    assert pg["OPTIONS"] == {"sslmode": "require"}
    socket = database_from_url("postgresql://postgres:@/postgres?host=/srv/pb/postgres")  # the embedded server
    assert (socket["HOST"], socket["NAME"], socket["OPTIONS"]) == ("/srv/pb/postgres", "postgres", {})
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        database_from_url("mysql://x/y")
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        database_from_url("sqlite:///data/pb.db")  # PostgreSQL everywhere: what it refuses is refused on a laptop


def test_redis_urls_feed_celery_and_channels() -> None:
    broker, host = redis_endpoints("redis://r:6379/2")
    assert broker == "redis://r:6379/2" and host["address"] == "redis://r:6379/2"
    broker, host = redis_endpoints("unix:///tmp/pb/redis.sock")
    assert broker == "redis+socket:///tmp/pb/redis.sock" and host["address"] == "unix:///tmp/pb/redis.sock"
    # Blocking reads: the socket timeout outlasts channels_redis's 5 s blocking pop, and the pool is bounded.
    assert host["socket_timeout"] > 5 and host["max_connections"] > 0
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL"):
        redis_endpoints("http://nope")


def test_a_bad_setting_stops_manage_py_with_a_clear_message(tmp_path: Path) -> None:
    env = {**os.environ, "DEBUG": "perhaps", "PATCHBAY_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0 and "DEBUG='perhaps'" in done.stderr
