from __future__ import annotations

from django.apps import AppConfig


class InsightsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "backend.insights"
    label = "insights"
