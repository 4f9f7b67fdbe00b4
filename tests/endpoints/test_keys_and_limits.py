"""Key material (pure) and the Redis rate limiter (real Redis, shared by every web process)."""
from __future__ import annotations

import secrets

from backend.endpoints import ratelimit
from backend.endpoints.keys import hash_key, matches, new_key, prefix_of


def test_keys_are_random_well_formed_and_checked_by_hash() -> None:
    first, second = new_key(), new_key()
    assert first.key != second.key and first.prefix != second.prefix
    assert prefix_of(first.key) == first.prefix and first.secret_hash == hash_key(first.key)
    assert matches(first.key, first.secret_hash) and not matches(second.key, first.secret_hash)
    for bad in ("", "pbk_", first.key + "x", first.key[:-1], "Bearer " + first.key, first.key.replace("pbk_", "sk_"),
                first.key.upper()):
        assert prefix_of(bad) is None or not matches(bad, first.secret_hash), bad


def test_the_rate_limit_counts_a_rolling_minute_per_key_and_does_not_count_refusals() -> None:
    key, other = secrets.token_hex(6), secrets.token_hex(6)
    decisions = [ratelimit.hit(key, 3) for _ in range(5)]
    decisions.append(ratelimit.hit(other, 3))
    assert [d.allowed for d in decisions] == [True, True, True, False, False, True]
    assert [d.remaining for d in decisions[:4]] == [2, 1, 0, 0]
    refused = decisions[3]
    assert 59 <= refused.reset_s <= 60 and refused.headers()["Retry-After"] == str(refused.reset_s)
    assert "Retry-After" not in decisions[0].headers()
