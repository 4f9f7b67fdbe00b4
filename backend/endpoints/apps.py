from __future__ import annotations

from django.apps import AppConfig


class EndpointsConfig(AppConfig):
    name = "backend.endpoints"
    label = "endpoints"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The Celery app autodiscovers only backend.runs; importing here registers the callback task in every
        # process that sets Django up (the worker included). The auth import registers its OpenAPI extension;
        # the delivery import subscribes result callbacks to the run-finished hook.
        from . import auth, delivery, labels, tasks  # noqa: F401
        from .callbacks import allowed_networks

        allowed_networks()  # a bad PATCHBAY_CALLBACK_ALLOWED_NETWORKS stops start-up, naming the variable
