"""Graph documents, good ones mutated and anything at all: never a 5xx, a refused save changes nothing."""
from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.graphs.models import Graph, GraphVersion

from .checks import assert_answer
from .conftest import fuzz
from .strategies import EXAMPLE_GRAPHS, json_values, mutated, raw_bodies, tricky_text

pytestmark = pytest.mark.django_db

documents = st.one_of(st.sampled_from(list(EXAMPLE_GRAPHS.values())).flatmap(mutated), json_values())
bodies = st.one_of(
    st.fixed_dictionaries({"spec": documents}, optional={"message": st.one_of(tricky_text(), json_values()),
                                                         "workspace": json_values()}),
    json_values())
ROUTES = ["create", "update", "validate"]


def counts() -> tuple[int, int]:
    return Graph.objects.count(), GraphVersion.objects.count()


@pytest.fixture
def saved(alice_api) -> int:  # type: ignore[no-untyped-def]
    response = alice_api.post("/api/graphs/", {"spec": EXAMPLE_GRAPHS["chain"]}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def send(api: Any, route: str, graph_id: int, body: bytes) -> Any:
    if route == "create":
        return api.post("/api/graphs/", body, content_type="application/json")
    if route == "update":
        return api.put(f"/api/graphs/{graph_id}/", body, content_type="application/json")
    return api.post("/api/graphs/validate/", body, content_type="application/json")


@fuzz
@given(route=st.sampled_from(ROUTES), body=bodies)
def test_graph_documents_never_500_nor_save_in_part(alice_api, saved, route: str, body: Any) -> None:  # type: ignore[no-untyped-def]
    before = counts()
    response = send(alice_api, route, saved, json.dumps(body).encode())
    assert_answer(response, f"{route} {json.dumps(body)[:2000]}")
    if response.status_code >= 400 or route == "validate":
        assert counts() == before, f"{route} answered {response.status_code} but the graph or version count moved"
    elif route == "create":
        assert counts() == (before[0] + 1, before[1] + 1)
    else:
        assert counts()[0] == before[0] and counts()[1] - before[1] in (0, 1)


@fuzz
@given(route=st.sampled_from(ROUTES), body=raw_bodies(bodies))
def test_raw_graph_bodies_never_500_nor_save_in_part(alice_api, saved, route: str, body: bytes) -> None:  # type: ignore[no-untyped-def]
    before = counts()
    response = send(alice_api, route, saved, body)
    assert_answer(response, f"{route} {body[:2000]!r}")
    if response.status_code >= 400 or route == "validate":
        assert counts() == before
