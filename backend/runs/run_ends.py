"""A run's end, announced to the web processes that wait on it: one Redis PUBLISH per run, on commit.

A sync flow call waits only for its run's end and answers with what the end
wrote. Following the run's channel-layer group for that cost the web process a
group add and discard per call and a receive (a script, a pop, a decode) for
every batch of the run's events, only to drop all but the last; and then a
database read for the answer. Here ``finish_run`` (runs/finished.py, the one
place a run ends) publishes, once its write commits, exactly the columns it
wrote; each web process listens on one subscription (runs/run_waiter.py) and
answers from the message. Publishing is best effort: a lost message costs the
waiter its once-a-second database check, as before.

A message leaves out the output when it would be large, and the totals when
the end wrote none (a cancel, a lost worker): ``whole`` is then false and the
waiter reads the run from the database.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from dataclasses import dataclass
from typing import Any

import redis
import redis.connection
from django.conf import settings

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 16 * 1024  # larger answers are read from the database: every web process hears every end
# The Run columns an end writes (finished.finish_run) that a caller's answer shows.
TOTALS = ("input_tokens", "output_tokens", "cost_usd", "llm_calls", "latency_ms", "cache_hits", "saved_usd",
          "saved_ms")


PUBLISH_TIMEOUT_S = 2.0  # a Redis that hangs must not hold up the commit hooks of the process that ended the run

_publisher: redis.Redis | None = None
_lock = threading.Lock()


def channel() -> str:
    """The pub/sub channel of this deployment. Pub/sub ignores Redis database numbers, so the name carries the
    database and the queue name (which already keep parallel sessions on one Redis apart)."""
    db = redis.connection.parse_url(settings.REDIS_URL).get("db", 0)
    return f"patchbay:{db}:{settings.CELERY_TASK_DEFAULT_QUEUE}:run-ends"


def _client() -> redis.Redis:
    global _publisher
    if _publisher is None:
        with _lock:
            if _publisher is None:
                _publisher = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=PUBLISH_TIMEOUT_S,
                                                  socket_connect_timeout=PUBLISH_TIMEOUT_S)
    return _publisher


@dataclass(frozen=True)
class RunEnd:
    """A run stopped what a sync caller waits for: it ended, or waits for a person's decision."""

    run_id: str
    status: str = ""  # "" when only the database said so (the waiter's check)
    fields: dict[str, Any] | None = None  # every column the end wrote, when the message carried them all

    def apply(self, run: Any) -> bool:
        """Set the end's columns on ``run`` (the caller's copy of the row); False when the database must say."""
        if self.fields is None:
            return False
        for name, value in self.fields.items():
            setattr(run, name, value)
        return True


def encode(run_id: Any, fields: dict[str, Any]) -> bytes:
    """The message for an end that wrote ``fields`` (finish_run's UPDATE, or a status alone)."""
    message: dict[str, Any] = {"run_id": str(run_id), "status": str(fields["status"])}
    finished_at = fields.get("finished_at")
    if isinstance(finished_at, dt.datetime) and all(name in fields for name in TOTALS):
        message["fields"] = {**{name: fields[name] for name in ("error", "output", *TOTALS)},
                             "status": message["status"], "finished_at": finished_at.isoformat()}
        try:
            body = json.dumps(message, separators=(",", ":")).encode()
        except (TypeError, ValueError):  # not JSON after all: the database has the answer
            body = b""
        if body and len(body) <= MAX_MESSAGE_BYTES:
            return body
        del message["fields"]
    return json.dumps(message, separators=(",", ":")).encode()


def decode(body: bytes | str) -> RunEnd | None:
    try:
        message = json.loads(body)
        fields = message.get("fields")
        if fields is not None:
            fields = {**fields, "finished_at": dt.datetime.fromisoformat(fields["finished_at"])}
        return RunEnd(run_id=str(message["run_id"]), status=str(message["status"]), fields=fields)
    except (ValueError, TypeError, KeyError, AttributeError):
        log.warning("run ends: a message that is not one: %r", body[:200])
        return None


def announce_end(run_id: Any, fields: dict[str, Any]) -> None:
    """Publish a run's end (called on commit). Never raises: the waiters' database check is the fallback."""
    try:
        _client().publish(channel(), encode(run_id, fields))
    except Exception as error:  # Redis away: waiters learn it from the database within a second
        log.warning("run %s: could not announce its end (%s)", run_id, error)
