"""Hypothesis profiles for the fuzz suites, and the fixtures they share.

Two profiles, one set of tests: ``ci`` (what ``make test`` runs: 500 examples a
target, derandomized so a red build reproduces) and ``nightly`` (``make fuzz``:
PATCHBAY_FUZZ_EXAMPLES a target, default 20,000, fresh randomness each night).
PATCHBAY_FUZZ_PROFILE picks one; PATCHBAY_FUZZ_EXAMPLES overrides either's count.
The profiles decorate only these tests (``@fuzz``), never the global default, so
other hypothesis users in the session keep their own settings.
"""
from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings

CI_EXAMPLES = 500
NIGHTLY_EXAMPLES = 20_000

_common: dict[str, Any] = {
    "deadline": None,  # a request on this noisy 2-core machine may take 100 ms or 2 s; timing is not the property
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                              HealthCheck.filter_too_much, HealthCheck.data_too_large],
    "phases": [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    "print_blob": True,
}
settings.register_profile("ci", max_examples=CI_EXAMPLES, derandomize=True, database=None, **_common)
settings.register_profile("nightly", max_examples=NIGHTLY_EXAMPLES, **_common)


def _profile() -> settings:
    chosen = settings.get_profile(os.environ.get("PATCHBAY_FUZZ_PROFILE", "ci"))
    examples = os.environ.get("PATCHBAY_FUZZ_EXAMPLES")
    return settings(chosen, max_examples=int(examples)) if examples else chosen


fuzz = _profile()  # decorate each @given test with @fuzz


@pytest.fixture
def workspace(alice):  # type: ignore[no-untyped-def]
    from backend.graphs.services import workspace_for_user

    return workspace_for_user(alice)
