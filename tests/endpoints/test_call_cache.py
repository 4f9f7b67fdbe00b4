"""Flow calls read their key and endpoint from a per-process cache, and every change is seen at the next call.

No live stack: ``authorize`` is what every published call's admission runs on the endpoints' database pool
(admission.py), run here on a thread as there, on this test's database (transactional, since its reads happen
on other threads) and the test Redis.
"""
from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.db import connection

from backend.endpoints import call_cache
from backend.endpoints.errors import CallRefused
from backend.endpoints.models import ApiKey, Endpoint
from backend.endpoints.services import api_key_revoke, api_key_update, endpoint_publish, endpoint_unpublish
from backend.graphs.models import Graph
from backend.releases.models import Release
from backend.releases.services import release_create, release_label_move

from .conftest import create_graph, make_key, publish, tagged_spec

pytestmark = pytest.mark.django_db(transaction=True)


def closing_db(fn: Any) -> Any:
    """The endpoints' ``db`` runner, on a thread that closes its connection after (no session left behind)."""

    def closing(*args: Any) -> Any:
        try:
            return fn(*args)
        finally:
            connection.close()

    async def call(*args: Any) -> Any:
        return await asyncio.to_thread(closing, *args)

    return call


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, str]]:
    """Every database read of a key and endpoint ``authorize`` makes."""
    seen: list[tuple[Any, str]] = []
    read = call_cache._read_rows

    def counting(prefix: Any, slug: str) -> Any:
        seen.append((prefix, slug))
        return read(prefix, slug)

    monkeypatch.setattr(call_cache, "_read_rows", counting)
    call_cache._keys.clear()
    call_cache._endpoints.clear()
    return seen


def authorize(key: str, slug: str) -> tuple[ApiKey, Endpoint]:
    found_key, endpoint, _ = authorized(key, slug)
    return found_key, endpoint


def authorized(key: str, slug: str) -> tuple[ApiKey, Endpoint, Release | None]:
    return async_to_sync(closing_db(call_cache.authorize))(f"Bearer {key}", slug)


def refusal(key: str, slug: str) -> CallRefused:
    with pytest.raises(CallRefused) as refused:
        authorize(key, slug)
    return refused.value


def test_repeated_calls_read_the_database_once(alice_api, reads) -> None:  # type: ignore[no-untyped-def]
    publish(alice_api, create_graph(alice_api, tagged_spec("one")), "ask")
    key = make_key(alice_api)["key"]
    for _ in range(5):
        found_key, endpoint = authorize(key, "ask")
        assert endpoint.slug == "ask" and found_key.prefix in key
    assert len(reads) == 1
    assert refusal(key[:-1] + ("x" if key[-1] != "x" else "y"), "ask").status == 401  # the secret is always checked


def test_a_revoked_key_is_refused_at_the_next_call(alice, alice_api, reads) -> None:  # type: ignore[no-untyped-def]
    publish(alice_api, create_graph(alice_api, tagged_spec("one")), "ask")
    made = make_key(alice_api)
    authorize(made["key"], "ask")
    api_key_revoke(user=alice, key=ApiKey.objects.get(pk=made["id"]))
    refused = refusal(made["key"], "ask")
    assert refused.status == 401 and "revoked" in refused.message


def test_a_scope_change_is_seen_at_the_next_call(alice, alice_api, reads) -> None:  # type: ignore[no-untyped-def]
    graph = create_graph(alice_api, tagged_spec("one"))
    publish(alice_api, graph, "ask")
    publish(alice_api, create_graph(alice_api, tagged_spec("two", name="other")), "other")
    made = make_key(alice_api)
    authorize(made["key"], "ask")
    api_key_update(user=alice, key=ApiKey.objects.get(pk=made["id"]), scopes=["other"])
    assert refusal(made["key"], "ask").status == 403
    assert authorize(made["key"], "other")[1].slug == "other"


def test_unpublish_and_publish_are_seen_at_the_next_call(alice, alice_api, reads) -> None:  # type: ignore[no-untyped-def]
    graph = create_graph(alice_api, tagged_spec("one"))
    publish(alice_api, graph, "ask")
    key = make_key(alice_api)["key"]
    assert authorize(key, "ask")[1].version.number == 1
    endpoint_unpublish(user=alice, endpoint=Endpoint.objects.get(slug="ask"))
    assert refusal(key, "ask").status == 404
    alice_api.put(f"/api/graphs/{graph}/", {"spec": tagged_spec("two")}, format="json")
    endpoint_publish(user=alice, endpoint=Endpoint.objects.get(slug="ask"))
    assert authorize(key, "ask")[1].version.number == 2, "the newly published version, not the cached one"


def test_a_moved_release_label_is_served_from_the_next_call(alice, alice_api, reads) -> None:  # type: ignore[no-untyped-def]
    graph_id = create_graph(alice_api, tagged_spec("one"))
    publish(alice_api, graph_id, "ask")
    key = make_key(alice_api)["key"]
    first = authorized(key, "ask")[2]
    assert first is not None and first.version.number == 1
    assert authorized(key, "ask")[2] == first and len(reads) == 1, "the release is cached with the endpoint"
    graph = Graph.objects.get(pk=graph_id)
    alice_api.put(f"/api/graphs/{graph_id}/", {"spec": tagged_spec("two")}, format="json")
    release = release_create(user=alice, graph=graph, version_number=2)
    release_label_move(user=alice, graph=graph, label="production", release=release, override_reason="a test")
    served = authorized(key, "ask")[2]
    assert served is not None and served.pk == release.pk and served.version.number == 2


def test_unknown_keys_and_slugs_are_not_kept(alice_api, reads) -> None:  # type: ignore[no-untyped-def]
    """A miss is a refusal: read again at the next call, and never kept, so callers cannot grow the cache."""
    publish(alice_api, create_graph(alice_api, tagged_spec("one")), "ask")
    key = make_key(alice_api)["key"]
    for slug in ("nowhere", "nowhere", "elsewhere"):
        assert refusal(key, slug).status == 404
    assert len(reads) == 3 and set(call_cache._endpoints) == set()
    assert authorize(key, "ask")[1].slug == "ask" and set(call_cache._endpoints) == {"ask"}
