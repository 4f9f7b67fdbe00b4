"""channels_redis's layer with a bounded, blocking connection pool and buffers that are let go.

Two things the stock ``RedisChannelLayer`` (4.3) does not do:

* Its pool is redis-py's plain ``ConnectionPool``: it opens a connection per
  concurrent command without limit and never waits for a free one. Here the
  pool is ``BlockingConnectionPool``: at most ``max_connections``, and a caller
  waits up to ``timeout`` seconds for one (then gets an error it can handle).
  The host dict (``config/env.py``'s ``redis_endpoints``) carries both.
* Every process-local channel ("specific.<client>!<id>") shares one Redis
  list; whoever receives takes the next message and parks it in
  ``receive_buffer[channel]`` for its addressee. A message that arrives after
  its channel's reader left (the group was still sending, a message was in
  flight) is parked for good: one queue per abandoned channel, forever.
  ``release(channel)`` drops a finished channel's buffer now and any late
  arrival for it later.

And one it does more slowly: ``group_send`` asks Redis for the group's members
with two commands (drop the expired, then list) before sending, even when the
group is empty, and most runs have nobody following. Here the two are one
script call, one command and one round trip; a group with members is then sent
to by the stock ``group_send``. A follower that joins after the empty answer
loses nothing: it joins, then reads the database, and the sink publishes only
what it has already stored (runs/follow.py, runs/sinks.py).
"""
from __future__ import annotations

import time
from typing import Any

from channels_redis.core import RedisChannelLayer
from redis.asyncio import BlockingConnectionPool
from redis.commands.core import AsyncScript

# How long a released channel is remembered, so late messages for it are dropped: longer than a
# message can wait in Redis (the layer's ``expiry``) plus some slack.
_LATE_SLACK_S = 10.0
# The group's members after dropping those that expired: the first two commands of the stock group_send.
_MEMBERS = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, ARGV[1])
return redis.call('ZRANGE', KEYS[1], 0, -1)
"""


class RedisFollowLayer(RedisChannelLayer):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._released: dict[str, float] = {}
        self._members: AsyncScript | None = None

    def create_pool(self, index: int) -> BlockingConnectionPool:
        host = dict(self.hosts[index])
        address = host.pop("address")
        return BlockingConnectionPool.from_url(address, **host)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        """Send to the group's members; a group with none costs one Redis command."""
        assert self.require_valid_group_name(group), "Group name not valid"
        connection = self.connection(self.consistent_hash(group))
        if self._members is None:
            self._members = connection.register_script(_MEMBERS)  # EVALSHA, loading the script once if needed
        members = await self._members(keys=[self._group_key(group)], args=[int(time.time()) - self.group_expiry],
                                      client=connection)
        if members:
            await super().group_send(group, message)

    def release(self, channel: str) -> None:
        """Forget a channel nobody will receive on again (call after its receive ended and it left its groups)."""
        now = time.monotonic()
        self._released[channel] = now
        horizon = now - self.expiry - _LATE_SLACK_S
        for name, since in list(self._released.items()):
            if since < horizon:
                del self._released[name]
        for name in [name for name in self.receive_buffer if name in self._released]:
            del self.receive_buffer[name]

    def buffered_channels(self) -> int:
        """How many channels have messages parked in this process (for the memory bench and tests)."""
        return len(self.receive_buffer)
