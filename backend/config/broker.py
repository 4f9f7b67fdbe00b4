"""The Redis broker transport with one fix: a worker holding unacked messages survives a broker restart.

A Celery worker holds messages it has not acked: a task waiting for its
countdown (a callback delivery's retry, a run's retry after a lost database
connection), a task not yet started. On a connection loss Celery closes the
connection, then its channel; the channel restores its unacked messages on
close, but the connection's details are already gone, so kombu raises
AttributeError ('NoneType' object has no attribute 'hostname'), which Celery
does not expect: the worker process exits (celery 5.7.0, kombu 5.7.0).

Here a restore that cannot reach Redis is skipped and the worker reconnects.
Nothing more is lost than without the crash: a Redis that restarted without
persistence lost those messages anyway (the sweeps in backend/runs/liveness.py
re-enqueue runs); one that kept them restores them after ``visibility_timeout``.
``use_for_redis_urls`` (called where the Celery app is made) selects it for every
redis URL form, the embedded server's unix socket included.
"""
from __future__ import annotations

import logging
from typing import Any

import redis as redis_py
from kombu import transport as kombu_transports
from kombu.transport import redis

log = logging.getLogger(__name__)


class QoS(redis.QoS):
    def restore_unacked(self, client: Any = None) -> Any:
        try:
            return super().restore_unacked(client)
        except (AttributeError, redis_py.RedisError) as exc:  # the channel's connection is gone (see above)
            log.warning("broker connection lost: %d unacked messages not restored now (%s)", len(self._delivered),
                        exc)
            self._delivered.clear()
            return None


class Channel(redis.Channel):
    QoS = QoS


class Transport(redis.Transport):
    Channel = Channel


def use_for_redis_urls() -> None:
    """Make ``redis://``, ``rediss://`` and ``redis+socket://`` broker URLs use this transport."""
    for scheme in ("redis", "rediss"):
        kombu_transports.TRANSPORT_ALIASES[scheme] = f"{__name__}:Transport"
