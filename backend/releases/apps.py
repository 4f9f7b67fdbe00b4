from __future__ import annotations

from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "backend.releases"
    label = "releases"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # A graph that follows a prompt by label gets a new release when that label moves (follow.py).
        from . import follow  # noqa: F401
