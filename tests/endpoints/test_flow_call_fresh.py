"""A published flow called with "fresh": true skips the cache (and still refreshes it), over real HTTP
to Daphne, a Celery worker, and bench/fake_openai.py through litellm."""
from __future__ import annotations

from typing import Any

import pytest

from backend.providers.models import ModelAlias
from backend.runs.models import Run
from bench.fake_openai import FakeConfig

from .conftest import create_graph, make_key, publish, tagged_spec

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def test_a_fresh_flow_call_asks_the_model_again(live_stack, http, fake_openai, alice_api) -> None:  # type: ignore[no-untyped-def]
    fake_openai.configure(**vars(FakeConfig()))
    fake_openai.reset_stats()
    ModelAlias.objects.create(alias="flow-mini", model="openai/gpt-4o-mini", api_base=fake_openai.url,
                              api_key_env="PATH", max_retries=0, timeout_s=10)
    spec = tagged_spec("one", model="flow-mini")
    spec["nodes"][1]["config"]["params"] = {"temperature": 0}
    publish(alice_api, create_graph(alice_api, spec), "fresh-ask")
    key = make_key(alice_api)["key"]

    def call(**extra: Any) -> Run:
        response = http.post("/api/v1/flows/fresh-ask/run", json={"input": {"text": "hi"}, **extra},
                             headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 200, response.text
        return Run.objects.get(pk=response.json()["run_id"])

    def calls() -> int:
        return sum(fake_openai.stats()["calls_by_model"].values())

    assert call().cache_hits == 0 and calls() == 1
    assert call().cache_hits == 1 and calls() == 1
    fresh = call(fresh=True)
    assert fresh.fresh and fresh.cache_hits == 0 and calls() == 2
    refused = http.post("/api/v1/flows/fresh-ask/run", json={"input": {"text": "hi"}, "fresh": "yes"},
                        headers={"Authorization": f"Bearer {key}"})
    assert refused.status_code == 400 and refused.json()["problems"][0]["path"] == "fresh"
