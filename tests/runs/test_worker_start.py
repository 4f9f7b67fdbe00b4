"""A run never imports the models on the run loop: its Celery thread waits for the warm-up, or loads them first."""
from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

from backend.runs import worker_start


@pytest.fixture
def fresh_state() -> Iterator[None]:
    saved = dict(worker_start._models), worker_start._warmed.is_set()
    worker_start._warmed.clear()
    yield
    worker_start._models.update(saved[0])
    if saved[1]:
        worker_start._warmed.set()


def test_a_run_arriving_during_the_warm_up_waits_for_it_in_its_own_thread(fresh_state: None) -> None:
    worker_start._models["state"] = "loading"
    waiting = threading.Thread(target=worker_start.models_before_run, daemon=True)
    waiting.start()
    waiting.join(0.3)
    assert waiting.is_alive()  # held until the models are there
    worker_start._models["state"] = "loaded"
    worker_start._warmed.set()
    waiting.join(5)
    assert not waiting.is_alive()


def test_on_first_use_the_first_run_loads_the_models_before_it_starts(fresh_state: None) -> None:
    worker_start._models["state"] = "on first use"
    worker_start.models_before_run()
    assert "litellm" in sys.modules
    assert worker_start.models_state() == "loaded"


def test_a_warm_up_that_is_switched_off_starts_nothing(fresh_state: None, settings) -> None:  # type: ignore[no-untyped-def]
    settings.PATCHBAY_WARM_MODELS = False
    worker_start._models["state"] = "on first use"
    worker_start.warm_models_in_background()
    assert worker_start._models["state"] == "on first use"
    assert not any(t.name == "patchbay-warm-models" for t in threading.enumerate())
