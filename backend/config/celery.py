"""The Celery app. Runs are I/O-bound: see runs/loop.py for how a worker holds many at once."""
from __future__ import annotations

import os

from celery import Celery

from .broker import use_for_redis_urls

# CELERY_SKIP_CHECKS: Celery's Django fixup runs every system check when a worker starts: it imports the whole URL
# conf (every view, serializer and the OpenAPI generator) into a process that serves no HTTP, ~0.5 s and ~10 MiB
# per worker. The same checks run where they belong: `manage.py serve` / `migrate` before the workers start, and
# the test suite.
_DEFAULTS = {"DJANGO_SETTINGS_MODULE": "backend.config.settings", "CELERY_SKIP_CHECKS": "1"}
# What importing this package set because nobody had: a command that runs other commands (config/embedded.py's
# main) hands them the environment it was given, not these (pytest-django would take this settings module over
# the one pyproject.toml names).
SET_BY_IMPORT = frozenset(name for name in _DEFAULTS if name not in os.environ)
for _name in SET_BY_IMPORT:
    os.environ[_name] = _DEFAULTS[_name]

use_for_redis_urls()  # a broker restart must not kill a worker holding unacked messages (see broker.py)
app = Celery("patchbay")
app.config_from_object("django.conf:settings", namespace="CELERY")

app.autodiscover_tasks(["backend.runs", "backend.insights", "backend.evals"])
