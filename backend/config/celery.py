"""The Celery app. Runs are I/O-bound: see runs/loop.py for how a worker holds many at once."""
from __future__ import annotations

import os

from celery import Celery

from .broker import use_for_redis_urls

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.config.settings")

use_for_redis_urls()  # a broker restart must not kill a worker holding unacked messages (see broker.py)
app = Celery("patchbay")
app.config_from_object("django.conf:settings", namespace="CELERY")

app.autodiscover_tasks(["backend.runs", "backend.insights", "backend.evals"])
