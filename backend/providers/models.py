"""The model registry: aliases that nodes name, mapped to real models."""
from __future__ import annotations

from django.db import models


class ModelAlias(models.Model):
    alias = models.SlugField(max_length=50, unique=True)
    model = models.CharField(max_length=200, help_text="litellm model string, e.g. openai/gpt-4o-mini, demo/fast")
    api_base = models.URLField(blank=True, help_text="For Ollama, vLLM or any OpenAI-compatible server")
    # Either the name of an environment variable holding the key, or the key encrypted at rest
    # (providers/secrets.py). The key is never stored or shown in clear.
    api_key_env = models.CharField(max_length=100, blank=True)
    api_key_encrypted = models.TextField(blank=True, editable=False)
    enabled = models.BooleanField(default=True, help_text="Kill switch: off sends calls to the fallbacks")
    fallbacks = models.JSONField(default=list, blank=True, help_text="Aliases to try in order when this fails")
    max_retries = models.PositiveSmallIntegerField(default=2)
    timeout_s = models.FloatField(default=60)
    input_cost_per_mtok = models.FloatField(null=True, blank=True, help_text="USD per million input tokens")
    output_cost_per_mtok = models.FloatField(null=True, blank=True, help_text="USD per million output tokens")
    # Demo models are paced like real ones: the first token after demo_latency_ms, then demo_tokens_per_s
    # (0 = the rest at once). Both 0: an instant answer, as the test suite wants.
    demo_latency_ms = models.FloatField(default=0, help_text="Demo models: milliseconds to the first token")
    demo_tokens_per_s = models.FloatField(default=0, help_text="Demo models: tokens per second after the first "
                                                               "(0 = the whole answer at once)")
    # The circuit breaker (providers/breaker.py); empty = the settings' defaults (MODEL_BREAKER_*), 0 failures = off.
    breaker_failures = models.PositiveSmallIntegerField(null=True, blank=True)
    breaker_window_s = models.FloatField(null=True, blank=True)
    breaker_cooldown_s = models.FloatField(null=True, blank=True)
    description = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["alias"]

    def __str__(self) -> str:
        return f"{self.alias} → {self.model}"

    def set_api_key(self, plain: str) -> None:
        from .secrets import encrypt_secret

        self.api_key_encrypted = encrypt_secret(plain) if plain else ""

    @property
    def has_api_key(self) -> bool:
        return bool(self.api_key_env or self.api_key_encrypted)


class ModelEvent(models.Model):
    """A circuit breaker's trip, failed probe or recovery: what the Models page lists per alias."""

    class Kind(models.TextChoices):
        TRIPPED = "tripped"
        REOPENED = "reopened"  # the half-open probe failed
        RECOVERED = "recovered"

    alias = models.SlugField(max_length=50, db_index=True)  # not a foreign key: built-in aliases have no row
    kind = models.CharField(max_length=20, choices=Kind.choices)
    detail = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
