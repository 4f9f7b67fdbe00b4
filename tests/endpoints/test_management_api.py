"""Managing endpoints and keys as a workspace member: publish, roll back, unpublish, keys shown once."""
from __future__ import annotations

import jsonschema
import pytest

from backend.endpoints.keys import hash_key
from backend.endpoints.models import ApiKey, EndpointRelease
from backend.graphs.models import Membership

from .conftest import INPUTS, create_graph, make_key, publish, save_version, tagged_spec

pytestmark = pytest.mark.django_db


def test_creating_an_endpoint_publishes_the_latest_version_with_everything_a_caller_needs(alice_api) -> None:  # type: ignore[no-untyped-def]
    graph_id = create_graph(alice_api, tagged_spec("one", name="Support triage"))
    save_version(alice_api, graph_id, tagged_spec("two", name="Support triage"))
    created = alice_api.post("/api/endpoints/", {"graph": graph_id}, format="json")
    assert created.status_code == 201, created.json()
    endpoint = created.json()
    assert endpoint["slug"] == "support-triage" and endpoint["status"] == "live"
    assert endpoint["version"] == 2 and endpoint["latest_version"] == 2
    assert endpoint["urls"]["run"] == "http://testserver/api/v1/flows/support-triage/run"
    assert endpoint["urls"]["openapi"] == "http://testserver/api/v1/flows/support-triage/openapi.json"
    assert endpoint["input_schema"] == INPUTS
    assert endpoint["output_schema"]["properties"].keys() == {"reply", "version"}
    jsonschema.validate(endpoint["example_input"], INPUTS)
    assert endpoint["example_input"] == {"text": "Question"}
    assert "Bearer $PATCHBAY_API_KEY" in endpoint["snippets"]["curl"]
    assert '"input": {"text": "Question"}' in endpoint["snippets"]["curl"]
    assert "requests.post(" in endpoint["snippets"]["python"] and "fetch(" in endpoint["snippets"]["javascript"]
    assert endpoint["signing_secret"].startswith("whsec_")
    assert [(r["action"], r["version"], r["actor"]) for r in endpoint["releases"]] == [("published", 2, "alice")]

    listed = alice_api.get("/api/endpoints/").json()
    assert [e["slug"] for e in listed] == ["support-triage"]
    assert [(r["action"], r["version"]) for r in listed[0]["releases"]] == [("published", 2)]  # the Endpoints page


def test_slugs_are_checked_and_unique(alice_api, bob_api) -> None:  # type: ignore[no-untyped-def]
    graph_id = create_graph(alice_api, tagged_spec("one"))
    for bad in ("Has Caps", "-edge", "a" * 65, "under_score", ""):
        response = alice_api.post("/api/endpoints/", {"graph": graph_id, "slug": bad}, format="json")
        assert response.status_code == 400 and response.json()["problems"][0]["path"] == "slug", bad
    publish(alice_api, graph_id, "taken")
    bobs_graph = create_graph(bob_api, tagged_spec("bob"))
    clash = bob_api.post("/api/endpoints/", {"graph": bobs_graph, "slug": "taken"}, format="json")
    assert clash.status_code == 400 and clash.json()["problems"] == [{"path": "slug", "message": "'taken' is taken"}]
    assert bob_api.post("/api/endpoints/", {"graph": graph_id, "slug": "mine"}, format="json").status_code == 404


def test_rollback_walks_back_through_publishes_not_between_the_last_two(alice_api) -> None:  # type: ignore[no-untyped-def]
    graph_id = create_graph(alice_api, tagged_spec("one"))
    for tag in ("two", "three"):
        save_version(alice_api, graph_id, tagged_spec(tag))
    publish(alice_api, graph_id, "ask", version=1)

    def move(action: str, **body: object) -> tuple[int, int | None]:
        response = alice_api.post(f"/api/endpoints/ask/{action}/", body, format="json")
        return response.status_code, response.json().get("version")

    assert move("publish", version=2) == (200, 2)
    assert move("publish") == (200, 3), "publish without a version: the graph's latest"
    assert move("rollback") == (200, 2)
    assert move("rollback") == (200, 1)
    status, _ = move("rollback")
    assert status == 400, "nothing earlier than the first publish"
    assert move("rollback", version=3) == (200, 3), "or back to any named version"
    assert move("unpublish")[0] == 200
    assert move("publish", version=3) == (200, 3)
    assert move("rollback") == (200, 1), "re-publishing the live version after an unpublish does not stack it"
    assert move("publish", version=9)[0] == 400

    history = alice_api.get("/api/endpoints/ask/").json()["releases"]
    assert [(r["action"], r["version"], r["previous_version"]) for r in reversed(history)] == [
        ("published", 1, None), ("published", 2, 1), ("published", 3, 2), ("rolled_back", 2, 3),
        ("rolled_back", 1, 2), ("rolled_back", 3, 1), ("unpublished", 3, 3), ("published", 3, 3),
        ("rolled_back", 1, 3)]
    assert EndpointRelease.objects.count() == 9


def test_an_api_key_is_shown_once_and_stored_hashed(alice_api) -> None:  # type: ignore[no-untyped-def]
    created = make_key(alice_api, name="billing service", rate_limit_per_minute=120, daily_max_cost_usd=2.5)
    key = created["key"]
    assert key.startswith("pbk_") and len(key) == 4 + 12 + 1 + 43
    row = ApiKey.objects.get(pk=created["id"])
    assert row.secret_hash == hash_key(key) and key not in str(ApiKey.objects.filter(pk=row.pk).values().get())
    assert created["prefix"] == f"pbk_{row.prefix}_…" and key.startswith(created["prefix"][:-1])
    assert (created["rate_limit_per_minute"], created["daily_max_cost_usd"]) == (120, 2.5)
    assert created["usage"]["total"] == {"calls": 0, "input_tokens": 0, "output_tokens": 0, "tokens": 0,
                                         "cost_usd": 0.0}
    listed = alice_api.get("/api/api-keys/").json()
    assert len(listed) == 1 and "key" not in listed[0] and key not in str(listed)
    assert "key" not in alice_api.get(f"/api/api-keys/{created['id']}/").json()

    default = alice_api.post("/api/api-keys/", {"name": "defaults"}, format="json").json()
    assert default["rate_limit_per_minute"] == 600 and default["daily_max_cost_usd"] is None


def test_keys_can_be_changed_scoped_and_revoked(alice_api) -> None:  # type: ignore[no-untyped-def]
    publish(alice_api, create_graph(alice_api, tagged_spec("one")), "ask")
    created = make_key(alice_api)
    unknown = alice_api.patch(f"/api/api-keys/{created['id']}/", {"scopes": ["ask", "nope"]}, format="json")
    assert unknown.status_code == 400 and unknown.json()["problems"] == [
        {"path": "scopes[1]", "message": "no endpoint 'nope' in this workspace"}]
    changed = alice_api.patch(f"/api/api-keys/{created['id']}/", {"scopes": ["ask"], "name": "renamed",
                                                                  "daily_max_cost_usd": 1}, format="json")
    assert changed.status_code == 200
    assert (changed.json()["scopes"], changed.json()["name"], changed.json()["daily_max_cost_usd"]) == (
        ["ask"], "renamed", 1.0)
    revoked = alice_api.post(f"/api/api-keys/{created['id']}/revoke/")
    assert revoked.json()["active"] is False and revoked.json()["revoked_at"] is not None


def test_members_only_and_viewers_cannot_change_anything(alice, alice_api, bob, bob_api) -> None:  # type: ignore[no-untyped-def]
    graph_id = create_graph(alice_api, tagged_spec("one"))
    publish(alice_api, graph_id, "ask")
    key = make_key(alice_api)
    assert bob_api.get("/api/endpoints/").json() == [] and bob_api.get("/api/api-keys/").json() == []
    assert bob_api.get("/api/endpoints/ask/").status_code == 404
    assert bob_api.post("/api/endpoints/ask/unpublish/", {}, format="json").status_code == 404
    assert bob_api.post(f"/api/api-keys/{key['id']}/revoke/").status_code == 404

    workspace = Membership.objects.get(user=alice).workspace
    Membership.objects.create(workspace=workspace, user=bob, role=Membership.Role.VIEWER)
    assert [e["slug"] for e in bob_api.get("/api/endpoints/").json()] == ["ask"]
    for path in ("/api/endpoints/ask/unpublish/", "/api/endpoints/ask/publish/", "/api/endpoints/ask/rollback/",
                 f"/api/api-keys/{key['id']}/revoke/"):
        assert bob_api.post(path, {}, format="json").status_code == 403, path
    refused = bob_api.post("/api/api-keys/", {"name": "sneaky", "workspace": workspace.pk}, format="json")
    assert refused.status_code == 403 and "the admin role" in refused.json()["message"]
    assert alice_api.get("/api/endpoints/ask/").json()["status"] == "live"

    from rest_framework.test import APIClient

    anonymous = APIClient()
    assert anonymous.get("/api/endpoints/").status_code in (401, 403)
    assert anonymous.get("/api/v1/flows/ask/openapi.json").status_code in (401, 403)


def test_deleting_a_published_graph_takes_its_endpoint_with_it(alice_api) -> None:  # type: ignore[no-untyped-def]
    from backend.endpoints.models import Endpoint

    graph_id = create_graph(alice_api, tagged_spec("one"))
    publish(alice_api, graph_id, "ask")
    alice_api.post("/api/endpoints/ask/rollback/", {"version": 1}, format="json")
    assert alice_api.delete(f"/api/graphs/{graph_id}/").status_code == 204
    assert not Endpoint.objects.exists() and not EndpointRelease.objects.exists()
    assert alice_api.get("/api/endpoints/ask/").status_code == 404
