"""The model registry over the API: staff flip kill switches and set keys; keys never leave in clear."""
from __future__ import annotations

import asyncio

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from backend.engine.ports import LLMError
from backend.providers.models import ModelAlias
from backend.providers.registry import route_for

from ..conftest import token_for


@pytest.fixture
def staff_api(db):  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user("carol", password="carol-pass-123", is_staff=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client


def test_staff_create_an_alias_and_switch_it_off(staff_api) -> None:  # type: ignore[no-untyped-def]
    created = staff_api.put("/api/models/cheap/", {"model": "demo/cheap", "fallbacks": ["fast"],
                                                   "input_cost_per_mtok": 0.1}, format="json")
    assert created.status_code == 200 and created.json()["enabled"] is True
    assert route_for("cheap").fallbacks[0].alias == "fast"
    off = staff_api.patch("/api/models/cheap/", {"enabled": False}, format="json")
    assert off.json()["enabled"] is False and route_for("cheap").enabled is False  # the very next call sees it


def test_a_provider_key_is_stored_encrypted_and_never_returned(staff_api) -> None:  # type: ignore[no-untyped-def]
    response = staff_api.put("/api/models/real/", {"model": "openai/gpt-4o-mini", "api_key": "sk-live-123"},
                             format="json")
    assert "sk-live-123" not in response.content.decode() and response.json()["has_api_key"] is True
    row = ModelAlias.objects.get(alias="real")
    assert row.api_key_encrypted and "sk-live-123" not in row.api_key_encrypted
    assert route_for("real").api_key == "sk-live-123"


def test_bad_registry_input_is_400_with_the_field(staff_api) -> None:  # type: ignore[no-untyped-def]
    bad = staff_api.put("/api/models/x/", {"model": "demo/x", "fallbacks": ["nope", "x"]}, format="json")
    assert bad.status_code == 400
    assert [p["path"] for p in bad.json()["problems"]] == ["fallbacks[0]", "fallbacks[1]"]
    assert staff_api.put("/api/models/y/", {"enabled": False}, format="json").json()["problems"][0]["path"] == "model"
    assert staff_api.put("/api/models/z/", {"model": "demo/z", "timeout_s": -1}, format="json").status_code == 400
    assert not ModelAlias.objects.filter(alias__in=["x", "y", "z"]).exists()


def test_members_read_but_cannot_change_the_registry(alice_api) -> None:  # type: ignore[no-untyped-def]
    assert alice_api.get("/api/models/fast/").json()["alias"] == "fast"
    assert alice_api.patch("/api/models/fast/", {"enabled": False}, format="json").status_code == 403
    assert alice_api.get("/api/models/nope/").status_code == 404


def test_an_unknown_alias_fails_clearly_at_call_time(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LLMError, match="unknown model alias 'ghost'"):
        asyncio.run(asyncio.to_thread(route_for, "ghost"))


def test_cached_routes_follow_every_change_at_once(transactional_db, staff_api) -> None:  # type: ignore[no-untyped-def]
    """Routes are cached between calls, but a kill switch still acts on the very next call."""
    from backend.providers.registry import resolve_route

    staff_api.put("/api/models/cached/", {"model": "demo/one"}, format="json")

    async def calls() -> list[tuple[str, bool]]:
        seen = []
        for change in (None, {"model": "demo/two"}, {"enabled": False}):
            if change:
                await asyncio.to_thread(lambda c=change: staff_api.patch("/api/models/cached/", c, format="json"))
            route = await resolve_route("cached")
            seen.append((route.model, route.enabled))
        return seen

    assert asyncio.run(calls()) == [("demo/one", True), ("demo/two", True), ("demo/two", False)]
