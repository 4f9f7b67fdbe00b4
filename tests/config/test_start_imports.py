"""What a served process imports at start: nothing heavy it does not use yet (issue 16: start and idle).

The web server and a worker start in a second or two and idle small because litellm (seconds and ~250 MiB with
its tokenizers), the OpenAI SDK, Twisted/Daphne, protobuf and the Django system checks stay out of their start.
A worker loads litellm after it says it is ready (runs/worker_start.py); the web never does.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

NEVER_AT_START = ("litellm", "openai", "tiktoken", "tokenizers", "twisted", "daphne", "autobahn")


def _imported_after(code: str) -> set[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "backend.config.settings",
           "PATCHBAY_NO_EMBEDDED": "1"}
    out = subprocess.run([sys.executable, "-c", code + "\nimport json, sys; print(json.dumps(sorted(sys.modules)))"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_the_web_app_loads_its_urls_without_litellm_or_daphne() -> None:
    modules = _imported_after("import backend.config.asgi\n"
                              "from django.urls import get_resolver; get_resolver().url_patterns")
    assert "backend.runs.views" in modules  # the URL conf did load
    assert not {m.split(".")[0] for m in modules} & set(NEVER_AT_START)


def test_a_worker_starts_without_litellm_protobuf_or_the_url_conf() -> None:
    # What `celery worker` does before it says ready: the app, Django, the task modules.
    modules = _imported_after("from backend.config import celery_app\n"
                              "celery_app.loader.import_default_modules()\n"
                              "import celery.apps.worker, celery.concurrency.thread")
    assert "backend.runs.tasks" in modules
    assert not {m.split(".")[0] for m in modules} & set(NEVER_AT_START)
    assert "google.protobuf" not in modules  # only a worker that pushes OTLP loads it
    assert "backend.config.urls" not in modules  # no system checks: they import every view


def test_a_worker_skips_the_system_checks_that_manage_py_runs() -> None:
    env = {k: v for k, v in os.environ.items() if k != "CELERY_SKIP_CHECKS"}
    out = subprocess.run([sys.executable, "-c", "import os, backend.config; print(os.environ['CELERY_SKIP_CHECKS'])"],
                         cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT), "PATCHBAY_NO_EMBEDDED": "1"},
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert out.strip() == "1"
