"""The Celery app. Runs are I/O-bound: see runs/loop.py for how a worker holds many at once."""
from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.config.settings")

app = Celery("patchbay")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["backend.runs"])
