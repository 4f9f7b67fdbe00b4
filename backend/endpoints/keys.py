"""API key material: make, parse and hash keys. Pure functions, no database.

A key reads ``pbk_<prefix>_<secret>``: the 12-character prefix is public (it
finds the row and is shown in lists), the 43-character secret carries 256 bits
of randomness. Only SHA-256 of the whole key is stored; a slow hash adds
nothing for a secret this long, and the comparison is constant-time.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass

SCHEME = "pbk_"
PREFIX_LENGTH = 12
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
_SHAPE = re.compile(rf"^{SCHEME}([a-z0-9]{{{PREFIX_LENGTH}}})_([A-Za-z0-9_-]{{43}})$")


@dataclass(frozen=True)
class NewKey:
    key: str  # the whole key, shown to its owner once
    prefix: str
    secret_hash: str


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> NewKey:
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
    key = f"{SCHEME}{prefix}_{secrets.token_urlsafe(32)}"
    return NewKey(key=key, prefix=prefix, secret_hash=hash_key(key))


def prefix_of(key: str) -> str | None:
    """The prefix of a well-formed key, or None for anything else."""
    match = _SHAPE.match(key)
    return match.group(1) if match else None


def matches(key: str, secret_hash: str) -> bool:
    return hmac.compare_digest(hash_key(key), secret_hash)


def new_signing_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)
