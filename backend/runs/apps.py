from __future__ import annotations

from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "backend.runs"
    label = "runs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Subscribes the OTLP push to the run-finished hook in every process that can finish a run.
        from . import otlp_push  # noqa: F401
