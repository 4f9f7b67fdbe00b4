from __future__ import annotations

import datetime as dt
from typing import Any

from django.apps import AppConfig


def _expired_idempotency_records(now: dt.datetime) -> Any:
    from .models import IdempotencyRecord
    from .services import IDEMPOTENCY_TTL

    return IdempotencyRecord.objects.filter(created_at__lt=now - IDEMPOTENCY_TTL)


class EndpointsConfig(AppConfig):
    name = "backend.endpoints"
    label = "endpoints"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The Celery app autodiscovers only backend.runs; importing here registers the callback task in every
        # process that sets Django up (the worker included). The auth import registers its OpenAPI extension;
        # the delivery import subscribes result callbacks to the run-finished hook.
        from backend.runs.callers import register_caller_records
        from backend.runs.retention import register_expiring_records

        from . import auth, delivery, labels, tasks  # noqa: F401
        from .callbacks import allowed_networks
        from .models import EndpointCall

        # runs does not import this app (tests/runs/test_runs_know_no_callers.py): it reads what we register.
        register_caller_records(EndpointCall)  # the runs search and API find a run by its caller's request id
        register_expiring_records("idempotency_records", _expired_idempotency_records)  # pruned with the runs
        allowed_networks()  # a bad PATCHBAY_CALLBACK_ALLOWED_NETWORKS stops start-up, naming the variable
