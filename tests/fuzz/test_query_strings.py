"""Every GET route under /api/ (read from the URL conf) with hostile query strings: never a 5xx.

Query strings carry the parameters routes read (graph, status, after) and
others, with Unicode digits, huge numbers, empty values and repeated names,
percent-encoded as a browser or script would send them.
"""
from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from backend.runs.approval_links import make_link
from backend.runs.models import Approval, Run

from .checks import assert_answer
from .conftest import fuzz
from .strategies import EXAMPLE_GRAPHS, tricky_text

pytestmark = pytest.mark.django_db

PARAMS = ["graph", "status", "after", "format", "workspace", "limit", "offset", "page", "cursor", "search", "q",
          # the runs search (runs/views.run_search_from)
          "request_id", "version", "source", "created_after", "created_before", "cost_above", "latency_above",
          "model", "error", "release",
          # the releases API (releases/views.py)
          "from", "to"]
# The async flow views (/api/v1/) answer to API keys on their own database pool; test_flow_calls.py fuzzes them.
FLOW_PREFIX = "api/v1/"
# Swagger UI (a page for people) and the OpenAPI document: no 5xx, but an unknown ?format= answers 404 in the
# page's or the document's own media type (HTML, YAML), as drf-spectacular renders it.
DOCUMENT_ROUTES = {"api/docs/", "api/schema/"}
# The health check answers 503 when no worker has said it is up, which depends on what else runs on this Redis,
# not on the query: 200, or 503 in the API's error shape (tests/web/test_health.py checks both on purpose).
HEALTH_ROUTES = {"api/health/"}


def _routes(patterns: list[Any], prefix: str = "") -> list[str]:
    out: list[str] = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            out += _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/") and not route.startswith(FLOW_PREFIX):
            view = getattr(pattern.callback, "view_class", None)
            if view is None or hasattr(view, "get"):
                out.append(route)
    return out


GET_ROUTES = sorted(set(_routes(get_resolver().url_patterns)))


@pytest.fixture
def filled(alice, alice_api, workspace) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A real value for every path parameter, so each route reaches its query handling."""
    graph = alice_api.post("/api/graphs/", {"spec": EXAMPLE_GRAPHS["chain"]}, format="json").json()
    alice_api.post("/api/prompts/", {"name": "greet", "template": "Hi {{ input.text }}"}, format="json")
    run = alice_api.post("/api/runs/", {"graph": graph["id"], "input": {"text": "x"}}, format="json").json()
    key = alice_api.post("/api/api-keys/", {"name": "k"}, format="json").json()
    alice_api.post("/api/endpoints/", {"graph": graph["id"], "slug": "ask"}, format="json")
    assert Run.objects.filter(pk=run["id"]).exists()
    dataset = alice_api.post("/api/datasets/", {"name": "d"}, format="json").json()
    item = alice_api.post(f"/api/datasets/{dataset['id']}/items/", {"input": {"text": "x"}}, format="json").json()
    evaluated = alice_api.post("/api/evals/", {"dataset": dataset["id"], "graph": graph["id"],
                                               "scorers": [{"type": "contains", "text": "x"}]}, format="json").json()
    projection = alice_api.post(f"/api/graphs/{graph['id']}/projections/", {"inputs": [{"text": "x"}]},
                                format="json").json()
    asked = timezone.now()
    approval = Approval.objects.create(run_id=run["id"], workspace=workspace, node_id="review", span_id="s1",
                                       requested_at=asked, deadline_at=asked + dt.timedelta(days=1),
                                       on_deadline="reject", request={"deciders": {"role": "editor"}})
    return {"<int:approval_id>": str(approval.pk), "<str:token>": make_link(approval), "<int:graph_id>": str(graph["id"]),
            "<int:number>": "1", "<str:run_id>": str(run["id"]), "<int:dataset_id>": str(dataset["id"]),
            "<int:item_id>": str(item["id"]), "<str:eval_id>": str(evaluated["id"]),
            "<int:projection_id>": str(projection["id"]),
            "<str:other_id>": str(run["id"]),
            "<slug:name>": "greet", "<slug:label>": "production", "<int:workspace_id>": str(workspace.pk),
            "<slug:alias>": "fast", "<slug:slug>": "ask", "<int:key_id>": str(key["id"])}


def path_for(route: str, filled: dict[str, str]) -> str:
    for name, value in filled.items():
        route = route.replace(name, value)
    assert "<" not in route, f"no value for a path parameter in {route}: add it to the fixture"
    return "/" + route


query_strings = st.lists(st.tuples(st.one_of(st.sampled_from(PARAMS), tricky_text()), tricky_text()), max_size=6)


def test_the_routes_are_read_from_the_url_conf() -> None:
    assert "api/graphs/" in GET_ROUTES and "api/runs/<str:run_id>/events/" in GET_ROUTES
    assert len(GET_ROUTES) >= 15, GET_ROUTES


@fuzz
@given(route=st.sampled_from(GET_ROUTES), pairs=query_strings)
def test_query_strings_never_500(alice_api, filled, route: str, pairs: list[tuple[str, str]]) -> None:  # type: ignore[no-untyped-def]
    query = "&".join(f"{quote(name, safe='')}={quote(value, safe='')}" for name, value in pairs)
    path = path_for(route, filled)
    response = alice_api.get(f"{path}?{query}")
    if route in DOCUMENT_ROUTES:
        assert response.status_code < 500, f"GET {path}?{query} → {response.status_code}"
    elif route in HEALTH_ROUTES and response.status_code == 503:
        assert {"error", "message", "problems"} <= set(response.json()), response.json()
    else:
        assert_answer(response, f"GET {path}?{query}")
