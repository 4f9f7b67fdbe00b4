"""What a worker process does once Celery says it is ready: loop, sweep, presence, then (in the background) models.

Ready first, models after. Importing litellm and loading its tokenizer takes 3–5 s of CPU and ~250 MiB; done
inside ``worker_ready`` (as before) it held the worker's consumer, so the worker took no task and the stack was
not healthy until it finished. Now the worker announces itself at once (worker_presence.py) and a background
thread loads the models:

- **warmed (PATCHBAY_WARM_MODELS=true, the default)**: the first model call after a start or a restart does
  not pay the import (a run that arrives during the warm-up waits for it, no longer). A worker that serves any
  run holds litellm anyway, so warming costs no memory a working worker would not use; it only moves the cost
  from the first caller to the start. That is what a deployment serving callers wants.
- **on first use (false)**: an idle worker stays ~250 MiB smaller until its first model call, which then takes
  seconds longer. For a laptop or a small box where the stack mostly sits idle, and for workers that never call
  a model.

The presence facts say which (``models``: ``loading``, ``loaded``, ``on first use``, ``failed``), so the health
check shows it (backend/web/health.py).
"""
from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Any

from django.conf import settings

from backend.providers.warm import load_models

from .liveness import sweep_forever
from .loop import run_loop
from .worker_presence import Presence

log = logging.getLogger(__name__)

_models = {"state": "on first use"}
_warmed = threading.Event()
_presence: Presence | None = None


def models_state() -> str:
    if _models["state"] == "on first use" and "litellm" in sys.modules:
        return "loaded"  # a model call has loaded it
    return _models["state"]


def _load_models() -> None:
    started = time.monotonic()
    try:
        load_models()
        _models["state"] = "loaded"
        log.info("model gateway loaded in %.1f s", time.monotonic() - started)
    except Exception:  # the first model call tries again and reports its own error
        log.exception("loading the model gateway failed")
        _models["state"] = "failed"
    finally:
        _warmed.set()
        if _presence is not None:
            _presence.beat()  # the health check sees the new state now, not a beat later


def models_before_run() -> None:
    """Called by a run's Celery thread before it hands the run to the loop: wait for the warm-up, or load the
    models now (on first use). Never on the run loop: an import there would stall every run in the process."""
    if _models["state"] == "loading":
        _warmed.wait()
    elif _models["state"] == "on first use":
        load_models()


def warm_models_in_background() -> None:
    if not settings.PATCHBAY_WARM_MODELS:
        return
    _models["state"] = "loading"
    threading.Thread(target=_load_models, name="patchbay-warm-models", daemon=True).start()


def start_process_services() -> None:
    """The run loop and the orphan sweep of this process."""
    loop = run_loop()
    loop.call_soon_threadsafe(lambda: loop.create_task(sweep_forever()))


def on_worker_ready(hostname: str) -> None:
    """Celery takes tasks now: start the process's services, say so, then warm the models."""
    global _presence
    start_process_services()
    _presence = Presence(hostname, run_loop(), facts=lambda: {"models": models_state()})
    warm_models_in_background()
    _presence.start()


def on_worker_shutdown(**_: Any) -> None:
    if _presence is not None:
        _presence.stop()
