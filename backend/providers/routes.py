"""A model alias resolved to where and how to call it. Plain data, no Django."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class BreakerPolicy:
    """N failed attempts within window_s open the alias's circuit for cooldown_s (providers/breaker.py)."""
    failures: int = 5
    window_s: float = 60.0
    cooldown_s: float = 30.0


@dataclass(frozen=True)
class ModelRoute:
    alias: str
    model: str  # a litellm model string: "openai/gpt-4o-mini", "ollama/llama3", "demo/fast"
    api_base: str | None = None
    api_key: str | None = None
    enabled: bool = True  # the kill switch: off means calls go to the fallbacks, or fail fast
    fallbacks: tuple[ModelRoute, ...] = ()
    max_retries: int = 2  # attempts after the first, made by the gateway (litellm itself never retries)
    timeout_s: float = 60.0  # per attempt, and never past the run's max_seconds
    retry_backoff_s: float = 0.5  # first wait between attempts, doubling (unless Retry-After says otherwise)
    # USD per token; None = take the price from litellm's bundled price map.
    input_cost_per_token: float | None = None
    output_cost_per_token: float | None = None
    # Demo models only: time to the first token, then the speed of the rest (0 = the rest at once).
    demo_latency_ms: float = 0.0
    demo_tokens_per_s: float = 0.0
    breaker: BreakerPolicy | None = None  # None: no circuit breaker (built-in demo models, plain test routes)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_demo(self) -> bool:
        return self.model.startswith("demo/")
