"""Run requests against each example graph's input schema: never a 5xx; a refused run leaves no Run row."""
from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.runs.models import Run

from .checks import assert_answer
from .conftest import fuzz
from .strategies import EXAMPLE_GRAPHS, json_values, numbers, raw_bodies, shaped_then_mutated

pytestmark = pytest.mark.django_db

NAMES = sorted(EXAMPLE_GRAPHS)
_inputs = {name: shaped_then_mutated(EXAMPLE_GRAPHS[name]["inputs"]) for name in NAMES}
budgets = st.one_of(json_values(), st.dictionaries(
    st.sampled_from(["max_cost_usd", "max_seconds", "max_llm_calls", "max_tokens", "other"]),
    st.one_of(numbers(), json_values()), max_size=3))


@pytest.fixture
def graph_ids(alice_api) -> dict[str, int]:  # type: ignore[no-untyped-def]
    ids = {}
    for name in NAMES:
        response = alice_api.post("/api/graphs/", {"spec": EXAMPLE_GRAPHS[name]}, format="json")
        assert response.status_code == 201, (name, response.json())
        ids[name] = response.json()["id"]
    return ids


@st.composite
def run_bodies(draw: st.DrawFn, graph_ids: dict[str, int]) -> Any:
    name = draw(st.sampled_from(NAMES))
    body: dict[str, Any] = {"graph": draw(st.one_of(st.just(graph_ids[name]), json_values())),
                            "input": draw(_inputs[name])}
    if draw(st.booleans()):
        body["budget"] = draw(budgets)
    if draw(st.booleans()):
        body["version"] = draw(st.one_of(st.just(1), numbers(), json_values()))
    return body


@fuzz
@given(data=st.data(), raw=st.booleans())
def test_run_requests_never_500_nor_leave_a_refused_run(alice_api, graph_ids, data: st.DataObject, raw: bool) -> None:  # type: ignore[no-untyped-def]
    body = data.draw(run_bodies(graph_ids), label="body")
    encoded = data.draw(raw_bodies(st.just(body)), label="raw") if raw else json.dumps(body).encode()
    before = Run.objects.count()
    response = alice_api.post("/api/runs/", encoded, content_type="application/json")
    assert_answer(response, f"POST /api/runs/ {encoded[:2000]!r}")
    assert Run.objects.count() == before + (1 if response.status_code == 201 else 0)
