"""Celery tasks: glue only."""
from __future__ import annotations

from celery import shared_task

from .projection import projection_execute


@shared_task(name="insights.project_costs", acks_late=False, ignore_result=True)
def project_costs(projection_id: int) -> None:
    projection_execute(projection_id)
