"""The engine's ports: what the host must provide to run a graph.

Each is a small Protocol so tests can pass a scripted fake and the Celery
task can pass the real adapters (litellm gateway, DB + channel-layer sink,
Redis cache, wall clock).
"""
from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


class DeltaCallback(Protocol):
    """Called with each streamed piece of text. ``attempt`` counts the provider calls behind one
    model call (retries and fallbacks): when it changes, the text streamed so far is void."""

    def __call__(self, text: str, *, attempt: int = 1) -> None: ...


@dataclass
class LLMRequest:
    alias: str  # a model alias from the registry ("fast"), never a provider string
    messages: list[dict[str, str]]
    params: dict[str, Any] = field(default_factory=dict)
    response_schema: dict[str, Any] | None = None
    stream: bool = False
    timeout_s: float | None = None  # what is left of the run's time budget
    cache: bool | None = None  # None: cache only deterministic calls (temperature 0)
    cache_ttl_s: float | None = None  # how long a cached answer is served; None: the cache's default
    # What else the answer depends on, for the cache key: the step's config and the prompt version it used.
    cache_context: dict[str, Any] = field(default_factory=dict)


@dataclass
class LLMResult:
    text: str
    model: str  # the provider model that answered (after any fallback)
    input_tokens: int
    output_tokens: int
    cost_usd: float
    attempts: int | None = None  # provider calls made for this answer (retries and fallbacks included)
    fallback_from: list[str] = field(default_factory=list)  # aliases that failed first
    demo: bool = False  # answered by a built-in demo model
    parsed: Any = None  # the structured answer, when the request asked for a JSON schema
    attributes: dict[str, Any] = field(default_factory=dict)


class LLMError(Exception):
    """A model call failed for good (after the provider's retries and fallbacks)."""

    def __init__(self, message: str, *, kind: str = "provider", attempts: int = 1, model: str | None = None,
                 attributes: dict[str, Any] | None = None):
        super().__init__(message)
        # provider | rate_limit | timeout | model_disabled (switched off, no fallback on) | model_unavailable
        # (circuit open, no fallback answered) | bad_request | unknown_model, and answers that came
        # back 200 but were not whole: truncated_stream | empty_completion | malformed_response
        self.kind = kind
        self.attempts = attempts
        self.model = model
        self.attributes = attributes or {}  # span attributes describing the failure (e.g. each attempt's error)


class LLM(Protocol):
    async def complete(self, request: LLMRequest, on_delta: DeltaCallback | None = None) -> LLMResult: ...

    async def resolved_model(self, alias: str) -> dict[str, Any]:
        """What an alias answers with now (provider model, endpoint): part of the cache key, so remapping an
        alias to another model is a cache miss. Raises LLMError for an unknown alias."""
        ...

    async def estimate_cost(self, request: LLMRequest) -> float:
        """Cost the call will at least incur (its prompt) plus its capped completion, in USD."""
        ...


class Events(Protocol):
    def emit(self, event: dict[str, Any]) -> None:
        """Hand an event to the host. Must not block: the host queues and writes in order."""
        ...


# How long a cached answer is kept when the step names no TTL: one day.
DEFAULT_CACHE_TTL_S = 24 * 3600


class Cache(Protocol):
    async def get(self, key: str) -> Any | None: ...

    async def set(self, key: str, value: Any, ttl_s: float = DEFAULT_CACHE_TTL_S) -> None:
        """Keep ``value`` under ``key`` for ``ttl_s`` seconds (fractions honoured); a later get is a miss."""
        ...


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def now(self) -> float:
        """Wall-clock seconds since the epoch, for span timestamps."""
        ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> float:
        return time.time()


class NoCache:
    async def get(self, key: str) -> Any | None:
        return None

    async def set(self, key: str, value: Any, ttl_s: float = DEFAULT_CACHE_TTL_S) -> None:
        return None


class WriteOnlyCache:
    """A run started "fresh": every call goes to the model, and its answers still refresh the cache."""

    def __init__(self, inner: Cache):
        self.inner = inner

    async def get(self, key: str) -> Any | None:
        return None

    async def set(self, key: str, value: Any, ttl_s: float = DEFAULT_CACHE_TTL_S) -> None:
        await self.inner.set(key, value, ttl_s)


class MemoryCache:
    """In-process, with the Redis cache's semantics: values are kept as JSON, so each ``get`` returns a copy
    and a value changed after ``set`` is not changed in the cache; entries expire after their TTL
    (tests/conformance holds both to one contract)."""

    def __init__(self) -> None:
        self.data: dict[str, tuple[float, str]] = {}  # key -> (monotonic expiry, JSON)

    async def get(self, key: str) -> Any | None:
        entry = self.data.get(key)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            del self.data[key]
            return None
        return json.loads(entry[1])

    async def set(self, key: str, value: Any, ttl_s: float = DEFAULT_CACHE_TTL_S) -> None:
        self.data[key] = (time.monotonic() + ttl_s, json.dumps(value, default=str))


class CollectingEvents:
    """Keeps every event in a list: for tests, the CLI and benchmarks."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def emit(self, event: dict[str, Any]) -> None:
        self.events.append(event)


@dataclass
class Ports:
    llm: LLM
    events: Events = field(default_factory=CollectingEvents)
    cache: Cache = field(default_factory=NoCache)
    clock: Clock = field(default_factory=SystemClock)
    # The host's cancel signal: checked between steps, so Stop takes effect quickly.
    is_cancelled: Callable[[], Awaitable[bool]] | None = None
