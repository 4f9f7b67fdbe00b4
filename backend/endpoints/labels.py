"""Endpoints follow a release label: when it moves, their ``version`` mirror moves with it.

What a call runs is read from the label itself (releases/selectors.serving_release); the mirror keeps the
pages, the audit snapshot and the OpenAPI document (which read ``Endpoint.version``) in step.
"""
from __future__ import annotations

from typing import Any

from backend.releases.signals import label_moved

from .models import Endpoint


def _on_label_moved(sender: Any, *, graph: Any, label: str, release: Any, **_: Any) -> None:
    Endpoint.objects.filter(graph=graph, label=label).update(version_id=release.version_id)


label_moved.connect(_on_label_moved, dispatch_uid="endpoints.follow_release_label")
