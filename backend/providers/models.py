"""The model registry: aliases that nodes name, mapped to real models."""
from __future__ import annotations

from django.db import models


class ModelAlias(models.Model):
    alias = models.SlugField(max_length=50, unique=True)
    model = models.CharField(max_length=200, help_text="litellm model string, e.g. openai/gpt-4o-mini, demo/fast")
    api_base = models.URLField(blank=True, help_text="For Ollama, vLLM or any OpenAI-compatible server")
    # The key itself never enters the database: we store which environment variable holds it.
    api_key_env = models.CharField(max_length=100, blank=True)
    enabled = models.BooleanField(default=True, help_text="Kill switch: off sends calls to the fallbacks")
    fallbacks = models.JSONField(default=list, blank=True, help_text="Aliases to try in order when this fails")
    max_retries = models.PositiveSmallIntegerField(default=2)
    timeout_s = models.FloatField(default=60)
    input_cost_per_mtok = models.FloatField(null=True, blank=True, help_text="USD per million input tokens")
    output_cost_per_mtok = models.FloatField(null=True, blank=True, help_text="USD per million output tokens")
    demo_latency_ms = models.FloatField(default=0)
    description = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["alias"]

    def __str__(self) -> str:
        return f"{self.alias} → {self.model}"
