"""Releases on the live stack: labels move what endpoints serve, prompts stay pinned, every move is recorded.

Real PostgreSQL, Redis and a Celery worker (the session's live stack); the demo "fast" model answers with the
words of its prompt, so an answer says which prompt version ran.
"""
from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from backend.audit.models import AuditEntry
from backend.graphs.models import Membership
from backend.graphs.services import prompt_create, workspace_for_user
from backend.releases.models import LabelMove, Release, ReleaseLabel
from backend.runs.models import Run

from ..conftest import token_for
from ..endpoints.conftest import INPUTS, Flow, create_graph, make_key, publish, save_version, tagged_spec

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def answer(http: httpx.Client, flow: Flow, text: str = "hello") -> dict[str, Any]:
    response = http.post(f"/api/v1/flows/{flow.slug}/run", json={"input": {"text": text}}, headers=flow.auth())
    assert response.status_code == 200, response.text
    return response.json()


def move(api: Any, graph_id: int, label: str, release: int, note: str = "") -> Any:
    return api.put(f"/api/graphs/{graph_id}/labels/{label}/", {"release": release, "note": note}, format="json")


def prompted_spec(ref: str) -> dict[str, Any]:
    return {"schema": "patchbay.graph/v1", "name": "toned", "inputs": INPUTS,
            "nodes": [{"id": "in", "type": "input"},
                      {"id": "ask", "type": "llm", "config": {"model": "fast", "prompt_ref": ref}},
                      {"id": "out", "type": "output", "config": {"value": {"reply": "{{ nodes.ask.output }}"}}}],
            "edges": [{"from": "in", "to": "ask"}, {"from": "ask", "to": "out"}]}


def prompted_flow(alice: Any, alice_api: Any) -> Flow:
    """An endpoint whose only step follows ``tone@production`` (version 1 says ONE)."""
    prompt_create(workspace=workspace_for_user(alice), user=alice, name="tone",
                  template="Reply in tone ONE about {{ input.text }}")
    graph_id = create_graph(alice_api, prompted_spec("tone@production"))
    publish(alice_api, graph_id, "toned")
    key = make_key(alice_api)
    return Flow(slug="toned", graph_id=graph_id, key=key["key"], key_id=key["id"])


def test_moving_production_back_makes_the_next_call_return_the_old_release(live_stack, http, flow, alice,  # type: ignore[no-untyped-def]
                                                                           alice_api) -> None:
    assert answer(http, flow)["output"]["version"] == "one"
    save_version(alice_api, flow.graph_id, tagged_spec("two"))
    published = alice_api.post(f"/api/endpoints/{flow.slug}/publish/", {"version": 2}, format="json")
    assert published.status_code == 200 and published.json()["release"] == 2
    assert answer(http, flow)["output"]["version"] == "two"

    back = move(alice_api, flow.graph_id, "production", 1, note="two answers badly")
    assert back.status_code == 200, back.json()
    assert back.json()["from_release"]["number"] == 2 and back.json()["to_release"]["number"] == 1
    assert answer(http, flow)["output"]["version"] == "one", "the next call runs the old release"

    endpoint = alice_api.get(f"/api/endpoints/{flow.slug}/").json()
    assert (endpoint["version"], endpoint["release"], endpoint["label"]) == (1, 1, "production")
    moves = alice_api.get(f"/api/graphs/{flow.graph_id}/releases/").json()["moves"]
    assert [(m["label"], m["from_release"], m["to_release"], m["reason"], m["actor"]) for m in moves] == [
        ("production", 2, 1, "moved", "alice"), ("production", 1, 2, "published", "alice"),
        ("production", None, 1, "published", "alice")]
    assert moves[0]["note"] == "two answers badly"
    [audited] = AuditEntry.objects.filter(action="release.label_moved")  # publishes are audited as publishes
    assert (audited.before["release"], audited.after["release"], audited.after["note"]) == (2, 1, "two answers badly")

    # Runs record their release, and the runs search finds them by it (number with graph=, or id).
    assert [r.release.number for r in Run.objects.order_by("created_at")] == [1, 2, 1]
    by_number = alice_api.get(f"/api/runs/?graph={flow.graph_id}&release=1").json()
    assert len(by_number) == 2 and {r["release"]["number"] for r in by_number} == {1}
    second = Release.objects.get(graph_id=flow.graph_id, number=2)
    by_id = alice_api.get(f"/api/runs/?release={second.pk}").json()
    assert [r["output"]["version"] for r in by_id] == ["two"]
    bad = alice_api.get("/api/runs/?release=first")
    assert bad.status_code == 400 and bad.json()["problems"][0]["path"] == "release"


def test_a_prompt_label_move_makes_a_new_release_that_the_endpoint_serves(live_stack, http, alice,  # type: ignore[no-untyped-def]
                                                                          alice_api) -> None:
    flow = prompted_flow(alice, alice_api)
    assert "ONE" in answer(http, flow)["output"]["reply"]
    first = Release.objects.get(graph_id=flow.graph_id, number=1)
    assert first.prompts == {"tone@production": "tone@1"}

    # A new prompt version lands on staging: production (and what the endpoint serves) does not move.
    added = alice_api.post("/api/prompts/tone/versions/", {"template": "Reply in tone TWO about {{ input.text }}"},
                           format="json")
    assert added.status_code == 201
    assert Release.objects.filter(graph_id=flow.graph_id).count() == 1
    assert "ONE" in answer(http, flow)["output"]["reply"]

    moved = alice_api.put("/api/prompts/tone/labels/production/", {"version": 2}, format="json")
    assert moved.status_code == 200, moved.json()
    second = Release.objects.get(graph_id=flow.graph_id, number=2)
    assert second.prompts == {"tone@production": "tone@2"} and second.version_id == first.version_id
    assert (second.reason, second.cause) == ("prompt_label_moved", {"prompt": "tone", "label": "production",
                                                                      "from": 1, "to": 2})
    assert ReleaseLabel.objects.get(graph_id=flow.graph_id, name="production").release == second
    last = LabelMove.objects.filter(graph_id=flow.graph_id).first()
    assert last is not None and (last.reason, last.from_release, last.to_release) == ("prompt_label_moved", first,
                                                                                      second)
    body = answer(http, flow)
    assert "TWO" in body["output"]["reply"]
    run = Run.objects.get(pk=body["run_id"])
    assert run.release == second and run.resolved["prompts"] == {"tone@production": "tone@2"}

    # The release view says what the prompt move changed, line by line.
    diff = alice_api.get(f"/api/graphs/{flow.graph_id}/releases/diff/?from=1&to=2").json()
    assert diff["steps"] == {"added": [], "removed": [], "changed": [], "wiring": {"added": [], "removed": []}}
    [prompt] = diff["prompts"]
    assert (prompt["ref"], prompt["before"], prompt["after"]) == ("tone@production", "tone@1", "tone@2")
    assert prompt["lines"] == [{"op": "-", "text": "Reply in tone ONE about {{ input.text }}"},
                               {"op": "+", "text": "Reply in tone TWO about {{ input.text }}"}]
    assert "Prompt tone@production changes from tone@1 to tone@2." in diff["summary"]


def test_a_release_pins_its_prompt_versions_after_the_label_moves_on(live_stack, http, alice,  # type: ignore[no-untyped-def]
                                                                    alice_api) -> None:
    flow = prompted_flow(alice, alice_api)
    alice_api.post("/api/prompts/tone/versions/", {"template": "Reply in tone TWO about {{ input.text }}"},
                   format="json")
    alice_api.put("/api/prompts/tone/labels/production/", {"version": 2}, format="json")
    assert "TWO" in answer(http, flow)["output"]["reply"]
    # Roll production back to release 1: tone@production still points at version 2, the release pinned 1.
    preview = alice_api.get(f"/api/graphs/{flow.graph_id}/labels/production/?release=1").json()
    assert [(p["before"], p["after"]) for p in preview["prompts"]] == [("tone@2", "tone@1")]
    assert move(alice_api, flow.graph_id, "production", 1).status_code == 200
    body = answer(http, flow)
    assert "ONE" in body["output"]["reply"], "release 1 runs tone@1 though the prompt's label is on 2"
    assert Run.objects.get(pk=body["run_id"]).resolved["prompts"] == {"tone@production": "tone@1"}


def test_a_replay_of_an_endpoint_run_runs_its_release_not_todays_prompt_labels(live_stack, http, alice,  # type: ignore[no-untyped-def]
                                                                              alice_api) -> None:
    flow = prompted_flow(alice, alice_api)
    served = answer(http, flow)
    assert "ONE" in served["output"]["reply"]
    # The prompt's production label moves on (and production with it, to release 2); the run ran release 1.
    alice_api.post("/api/prompts/tone/versions/", {"template": "Reply in tone TWO about {{ input.text }}"},
                   format="json")
    assert alice_api.put("/api/prompts/tone/labels/production/", {"version": 2}, format="json").status_code == 200
    original = Run.objects.get(pk=served["run_id"])
    assert original.release is not None and original.release.number == 1

    def replayed(**body: Any) -> Run:
        response = alice_api.post(f"/api/runs/{original.pk}/replay/", body, format="json")
        assert response.status_code == 201, response.json()
        replay_id = response.json()["id"]
        deadline = time.monotonic() + 30
        while not (run := Run.objects.select_related("release").get(pk=replay_id)).is_finished:
            assert time.monotonic() < deadline, "the replay did not finish"
            time.sleep(0.05)
        return run

    replay = replayed()
    assert replay.status == "succeeded" and "ONE" in replay.output["reply"], "tone@1, as release 1 served it"
    assert replay.resolved["prompts"] == {"tone@production": "tone@1"}
    assert replay.release is not None and replay.release.number == 1
    assert alice_api.get(f"/api/runs/{replay.pk}/").json()["release"]["number"] == 1
    # From a node too: the replayed step runs the release's prompt version.
    from_node = replayed(from_node="ask")
    assert "ONE" in from_node.output["reply"] and from_node.resolved["prompts"] == {"tone@production": "tone@1"}
    # A replay with its own prompt for the step still runs the words it was given.
    overridden = replayed(from_node="ask", override={"node": "ask", "prompt": "Reply in tone THREE"})
    assert "THREE" in overridden.output["reply"]


def test_an_endpoint_switched_to_another_label_serves_its_release_from_the_next_call(live_stack, http, flow,  # type: ignore[no-untyped-def]
                                                                                     alice, alice_api) -> None:
    assert answer(http, flow)["output"]["version"] == "one"
    save_version(alice_api, flow.graph_id, tagged_spec("two"))
    made = alice_api.post(f"/api/graphs/{flow.graph_id}/releases/", {"version": 2, "note": "try it"}, format="json")
    assert made.status_code == 201, made.json()
    assert move(alice_api, flow.graph_id, "staging", made.json()["number"]).status_code == 200

    switched = alice_api.patch(f"/api/endpoints/{flow.slug}/", {"label": "staging"}, format="json")
    assert switched.status_code == 200, switched.json()
    body = switched.json()
    assert (body["label"], body["release"], body["version"], body["status"]) == ("staging", 2, 2, "live")
    served = answer(http, flow)
    assert served["output"]["version"] == "two", "the next call runs the release staging points at"
    assert Run.objects.get(pk=served["run_id"]).release.number == 2  # type: ignore[union-attr]
    # Production did not move: the endpoint follows another label, it moves none.
    assert ReleaseLabel.objects.get(graph_id=flow.graph_id, name="production").release.number == 1
    [entry] = AuditEntry.objects.filter(action="endpoint.label_changed")
    assert (entry.target_name, entry.actor_username) == (flow.slug, "alice")
    assert (entry.before["label"], entry.before["version"], entry.after["label"], entry.after["version"]) == (
        "production", 1, "staging", 2)

    # Unknown and malformed labels are refused, naming the field; nothing changes.
    for label, words in (("canary", "has no label 'canary'; its labels: production, staging"),
                         ("Not A Label", "lowercase letters")):
        refused = alice_api.patch(f"/api/endpoints/{flow.slug}/", {"label": label}, format="json")
        assert refused.status_code == 400, refused.json()
        [problem] = refused.json()["problems"]
        assert problem["path"] == "label" and words in problem["message"]
    missing = alice_api.patch(f"/api/endpoints/{flow.slug}/", {}, format="json")
    assert missing.status_code == 400 and missing.json()["problems"][0]["path"] == "label"
    # Back to production: the old release answers again.
    assert alice_api.patch(f"/api/endpoints/{flow.slug}/", {"label": "production"}, format="json").status_code == 200
    assert answer(http, flow)["output"]["version"] == "one"
    assert AuditEntry.objects.filter(action="endpoint.label_changed").count() == 2


def test_the_diff_names_added_removed_and_changed_steps_and_models(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    graph_id = create_graph(alice_api, tagged_spec("one"))
    two = tagged_spec("two", model="frontier")
    two["nodes"].insert(2, {"id": "polish", "type": "llm", "config": {"model": "fast", "prompt": "Polish: {{ nodes.ask.output }}"}})
    two["edges"] = [{"from": "in", "to": "ask"}, {"from": "ask", "to": "polish"}, {"from": "polish", "to": "out"}]
    save_version(alice_api, graph_id, two)
    for version in (1, 2):
        made = alice_api.post(f"/api/graphs/{graph_id}/releases/", {"version": version, "note": f"v{version}"},
                              format="json")
        assert made.status_code == 201 and made.json()["number"] == version
    again = alice_api.post(f"/api/graphs/{graph_id}/releases/", {"version": 2}, format="json")
    assert again.json()["number"] == 2, "the same version and prompts reuse their release"

    diff = alice_api.get(f"/api/graphs/{graph_id}/releases/diff/?from=1&to=2").json()
    assert [s["id"] for s in diff["steps"]["added"]] == ["polish"] and diff["steps"]["removed"] == []
    changed = {s["id"]: {f["path"]: (f["before"], f["after"]) for f in s["fields"]} for s in diff["steps"]["changed"]}
    assert changed["ask"] == {"config.model": ("fast", "frontier")}
    assert changed["out"] == {"config.value.version": ("one", "two")}
    assert sorted(diff["steps"]["wiring"]["added"]) == ["ask → polish", "polish → out"]
    assert diff["steps"]["wiring"]["removed"] == ["ask → out"]
    models = {m["alias"]: m for m in diff["models"]}
    assert models["frontier"]["change"] == "added" and "fast" not in models  # still used by polish
    assert models["frontier"]["after"]["model"] and "api_key" not in str(diff) and "api_base" not in str(diff)
    assert "Step 'polish' is added." in diff["summary"]
    assert diff["changes_nothing"] is False
    same = alice_api.get(f"/api/graphs/{graph_id}/releases/diff/?from=2&to=2").json()
    assert same["changes_nothing"] is True and same["summary"][0].startswith("Nothing changes")


def _member(alice: Any, name: str, role: str) -> APIClient:
    user = get_user_model().objects.create_user(name, password="pw-" + name)
    Membership.objects.create(workspace=workspace_for_user(alice), user=user, role=role)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client


def test_who_may_move_which_label(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    graph_id = create_graph(alice_api, tagged_spec("one"))
    save_version(alice_api, graph_id, tagged_spec("two"))
    for version in (1, 2):
        alice_api.post(f"/api/graphs/{graph_id}/releases/", {"version": version}, format="json")
    assert move(alice_api, graph_id, "production", 1).status_code == 200
    viewer, editor = _member(alice, "vera", "viewer"), _member(alice, "ed", "editor")

    refused = move(viewer, graph_id, "production", 2)
    assert refused.status_code == 403 and "admin role" in refused.json()["message"]
    assert move(viewer, graph_id, "staging", 2).status_code == 403
    assert move(editor, graph_id, "production", 2).status_code == 403
    assert ReleaseLabel.objects.get(graph_id=graph_id, name="production").release.number == 1
    assert not ReleaseLabel.objects.filter(graph_id=graph_id, name="staging").exists()
    assert move(editor, graph_id, "staging", 2).status_code == 200
    assert viewer.get(f"/api/graphs/{graph_id}/labels/production/?release=2").status_code == 200, "viewers read"
    assert LabelMove.objects.filter(graph_id=graph_id).count() == 2


@pytest.mark.parametrize(("method", "path", "body", "status", "field"), [
    ("put", "labels/production/", {"release": "two"}, 400, "release"),
    ("put", "labels/production/", {}, 400, "release"),
    ("put", "labels/production/", {"release": 9}, 404, None),
    ("put", "labels/Production/", {"release": 1}, 400, "label"),
    ("put", "labels/production/", {"release": 1, "note": "x" * 501}, 400, "note"),
    ("get", "labels/production/", None, 400, "release"),
    ("get", "labels/production/?release=x", None, 400, "release"),
    ("get", "releases/diff/?to=1", None, 400, "from"),
    ("get", "releases/diff/?from=1&to=-1", None, 400, "to"),
    ("get", "releases/7/", None, 404, None),
    ("post", "releases/", {"version": 5}, 400, "version"),
    ("post", "releases/", {"version": "latest"}, 400, "version"),
])
def test_bad_input_gets_a_4xx_naming_the_field(alice, alice_api, method: str, path: str, body: Any, status: int,  # type: ignore[no-untyped-def]
                                               field: str | None) -> None:
    graph_id = create_graph(alice_api, tagged_spec("one"))
    alice_api.post(f"/api/graphs/{graph_id}/releases/", {}, format="json")
    before = LabelMove.objects.count(), Release.objects.count()
    send = getattr(alice_api, method)
    response = send(f"/api/graphs/{graph_id}/{path}", body, format="json") if body is not None else \
        send(f"/api/graphs/{graph_id}/{path}")
    assert response.status_code == status, response.content
    if field is not None:
        assert field in {p["path"] for p in response.json()["problems"]}, response.json()
    assert (LabelMove.objects.count(), Release.objects.count()) == before
