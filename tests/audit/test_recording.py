"""Each audited change, made through the API as a user would, leaves exactly one entry with its before/after;
a refused or failed change leaves none; and no secret ever reaches the log."""
from __future__ import annotations

import json

import pytest
from django.db import connection, transaction

from backend.audit.models import AppendOnly, AuditEntry
from backend.audit.services import Target, audit_record
from backend.endpoints.models import ApiKey, Endpoint
from backend.graphs.models import Membership

from ..endpoints.conftest import create_graph, make_key, publish, save_version, tagged_spec
from .conftest import client_for, entries, member, workspace_of

pytestmark = pytest.mark.django_db


def only(action: str) -> AuditEntry:
    found = entries(action=action)
    assert len(found) == 1, [(e.action, e.before, e.after) for e in found]
    return found[0]


def test_publish_rollback_and_unpublish_each_leave_one_entry(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    graph_id = create_graph(alice_api, tagged_spec("one"))
    save_version(alice_api, graph_id, tagged_spec("two"))
    publish(alice_api, graph_id, "ask", version=1)
    first = only("endpoint.published")
    assert (first.before, first.after) == (None, {"version": 1, "status": "live", "graph": "ask",
                                                 "note": "first publish"})
    assert (first.actor_user_id, first.actor_username, first.workspace_id) == (alice.pk, "alice",
                                                                                 workspace_of(alice).pk)
    endpoint = Endpoint.objects.get(slug="ask")
    assert (first.target_type, first.target_id, first.target_name) == ("endpoint", str(endpoint.pk), "ask")

    assert alice_api.post("/api/endpoints/ask/publish/", {"version": 2, "note": "v2 is better"},
                          format="json").status_code == 200
    second = entries(action="endpoint.published")[-1]
    assert (second.before, second.after) == ({"version": 1, "status": "live", "graph": "ask"},
                                             {"version": 2, "status": "live", "graph": "ask", "note": "v2 is better"})

    assert alice_api.post("/api/endpoints/ask/rollback/", {}, format="json").status_code == 200
    back = only("endpoint.rolled_back")
    assert (back.before["version"], back.after["version"]) == (2, 1)

    assert alice_api.post("/api/endpoints/ask/unpublish/", {}, format="json").status_code == 200
    off = only("endpoint.unpublished")
    assert (off.before["status"], off.after["status"], off.after["version"]) == ("live", "off", 1)
    assert alice_api.post("/api/endpoints/ask/unpublish/", {}, format="json").status_code == 200
    assert len(entries(action="endpoint.unpublished")) == 1, "unpublishing an endpoint that is off changes nothing"
    assert AuditEntry.objects.count() == 4


def test_prompt_label_moves_record_from_which_version_to_which(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    alice_api.post("/api/prompts/", {"name": "greet", "template": "Hello {{ input.name }}"}, format="json")
    alice_api.post("/api/prompts/greet/versions/", {"template": "Hi {{ input.name }}!"}, format="json")
    assert AuditEntry.objects.count() == 0, "saving prompt versions is not a label move"
    assert alice_api.put("/api/prompts/greet/labels/production/", {"version": 2}, format="json").status_code == 200
    moved = only("prompt.label_moved")
    assert (moved.before, moved.after) == ({"label": "production", "version": 1},
                                           {"label": "production", "version": 2})
    assert (moved.target_type, moved.target_name) == ("prompt", "greet")
    assert alice_api.put("/api/prompts/greet/labels/production/", {"version": 2}, format="json").status_code == 200
    assert alice_api.put("/api/prompts/greet/labels/staging/", {"version": 1}, format="json").status_code == 200
    labels = [(e.before, e.after) for e in entries(action="prompt.label_moved")]
    assert labels[1:] == [({"label": "staging", "version": 2}, {"label": "staging", "version": 1})], \
        "re-pointing a label at its own version records nothing"


def test_api_keys_created_changed_and_revoked(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    publish(alice_api, create_graph(alice_api, tagged_spec("one")), "ask")
    created = make_key(alice_api, name="billing", rate_limit_per_minute=120)
    prefix = ApiKey.objects.get(pk=created["id"]).prefix
    made = only("api_key.created")
    assert made.before is None and made.after == {"name": "billing", "prefix": prefix, "scopes": [],
                                                  "rate_limit_per_minute": 120, "daily_max_cost_usd": None,
                                                  "revoked": False}
    assert (made.target_type, made.target_id, made.target_name) == ("api_key", str(created["id"]),
                                                                    f"billing ({prefix})")

    assert alice_api.patch(f"/api/api-keys/{created['id']}/", {"scopes": ["ask"], "daily_max_cost_usd": 2},
                           format="json").status_code == 200
    changed = only("api_key.updated")
    assert (changed.before["scopes"], changed.after["scopes"]) == ([], ["ask"])
    assert (changed.before["daily_max_cost_usd"], changed.after["daily_max_cost_usd"]) == (None, 2.0)
    assert alice_api.patch(f"/api/api-keys/{created['id']}/", {"name": "billing"}, format="json").status_code == 200
    assert len(entries(action="api_key.updated")) == 1, "a change that changes nothing records nothing"

    assert alice_api.post(f"/api/api-keys/{created['id']}/revoke/").status_code == 200
    revoked = only("api_key.revoked")
    assert (revoked.before["revoked"], revoked.after["revoked"]) == (False, True)
    assert alice_api.post(f"/api/api-keys/{created['id']}/revoke/").status_code == 200
    assert len(entries(action="api_key.revoked")) == 1, "revoking a revoked key changes nothing"


def test_retention_changes_record_the_workspace_s_own_windows(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    workspace = workspace_of(alice)
    url = f"/api/workspaces/{workspace.pk}/retention/"
    assert alice_api.patch(url, {"event_days": 7, "run_days": 30}, format="json").status_code == 200
    assert alice_api.patch(url, {"event_days": None}, format="json").status_code == 200
    assert [(e.before, e.after) for e in entries(action="retention.changed")] == [
        ({"event_days": None, "run_days": None}, {"event_days": 7, "run_days": 30}),
        ({"event_days": 7, "run_days": 30}, {"event_days": None, "run_days": 30})]
    assert {e.target_type for e in entries()} == {"workspace"}


def test_model_alias_changes_are_deployment_wide_and_never_hold_the_provider_key(staff, staff_api) -> None:  # type: ignore[no-untyped-def]
    assert staff_api.put("/api/models/cheap/", {"model": "demo/cheap"}, format="json").status_code == 200
    assert staff_api.patch("/api/models/cheap/", {"enabled": False}, format="json").status_code == 200
    assert staff_api.patch("/api/models/cheap/", {"enabled": True}, format="json").status_code == 200
    assert staff_api.patch("/api/models/cheap/", {"fallbacks": ["fast"]}, format="json").status_code == 200
    assert staff_api.patch("/api/models/cheap/", {"api_key": "sk-live-very-secret-123"},
                           format="json").status_code == 200
    assert staff_api.patch("/api/models/cheap/", {"fallbacks": ["fast"]}, format="json").status_code == 200
    log = entries()
    assert [e.action for e in log] == ["model.created", "model.switched_off", "model.switched_on", "model.updated",
                                       "model.updated"]
    assert all(e.workspace_id is None and e.actor_username == "carol" and e.target_name == "cheap" for e in log)
    assert log[0].before is None and log[0].after["model"] == "demo/cheap"
    assert (log[1].before["enabled"], log[1].after["enabled"]) == (True, False)
    assert (log[3].before["fallbacks"], log[3].after["fallbacks"]) == ([], ["fast"])
    assert (log[4].before["api_key_status"], log[4].after["api_key_status"]) == ("none", "new key stored")
    stored = json.dumps(list(AuditEntry.objects.values()), default=str)
    assert "sk-live-very-secret-123" not in stored and "very-secret" not in stored


def test_the_api_key_secret_never_reaches_the_log(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    publish(alice_api, create_graph(alice_api, tagged_spec("one")), "ask")
    created = make_key(alice_api, name="k")
    alice_api.patch(f"/api/api-keys/{created['id']}/", {"name": "k2"}, format="json")
    alice_api.post(f"/api/api-keys/{created['id']}/revoke/")
    row = ApiKey.objects.get(pk=created["id"])
    # pbk_<prefix>_<secret>: the secret is url-safe base64, so it may hold "_" itself
    secret_part = created["key"].split("_", 2)[2]
    assert len(secret_part) >= 40
    signing_secret = Endpoint.objects.get(slug="ask").signing_secret
    stored = json.dumps(list(AuditEntry.objects.values()), default=str)
    assert AuditEntry.objects.count() == 4
    for secret in (created["key"], secret_part, row.secret_hash, signing_secret):
        assert secret not in stored
    shown = json.dumps(alice_api.get(f"/api/workspaces/{workspace_of(alice).pk}/audit/").json())
    assert created["key"] not in shown and secret_part not in shown and row.secret_hash not in shown


def test_secret_shaped_fields_are_redacted_even_if_a_caller_passes_them(alice) -> None:  # type: ignore[no-untyped-def]
    with transaction.atomic():
        entry = audit_record(actor=alice, workspace=workspace_of(alice), action="api_key.updated",
                             target=Target("api_key", 1, "k"), before={"api_key": "pbk_x", "nested": [{"secret": 1}]},
                             after={"token": "t", "password": "p", "name": "kept"})
    assert entry.before == {"api_key": "[redacted]", "nested": [{"secret": "[redacted]"}]}
    assert entry.after == {"token": "[redacted]", "password": "[redacted]", "name": "kept"}


# --------------------------------------------------------------------------- failures record nothing


def test_refused_and_invalid_changes_record_nothing(alice, alice_api, staff_api) -> None:  # type: ignore[no-untyped-def]
    workspace = workspace_of(alice)
    graph_id = create_graph(alice_api, tagged_spec("one"))
    publish(alice_api, graph_id, "ask")
    key = make_key(alice_api)
    alice_api.post("/api/prompts/", {"name": "greet", "template": "Hello"}, format="json")
    baseline = AuditEntry.objects.count()

    assert alice_api.post("/api/endpoints/ask/publish/", {"version": 9}, format="json").status_code == 400
    assert alice_api.post("/api/endpoints/ask/rollback/", {}, format="json").status_code == 400
    assert alice_api.put("/api/prompts/greet/labels/production/", {"version": 9}, format="json").status_code == 400
    assert alice_api.patch(f"/api/api-keys/{key['id']}/", {"scopes": ["nope"]}, format="json").status_code == 400
    assert alice_api.post("/api/api-keys/", {"name": "x", "scopes": ["nope"]}, format="json").status_code == 400
    assert alice_api.patch(f"/api/workspaces/{workspace.pk}/retention/", {"event_days": 30, "run_days": 7},
                           format="json").status_code == 400
    assert staff_api.put("/api/models/cheap/", {"model": "demo/cheap", "fallbacks": ["cheap"]},
                         format="json").status_code == 400
    assert alice_api.patch("/api/models/fast/", {"enabled": False}, format="json").status_code == 403

    viewer = client_for(member(workspace, "vic", "viewer"))
    assert viewer.post("/api/endpoints/ask/unpublish/", {}, format="json").status_code == 403
    assert viewer.post(f"/api/api-keys/{key['id']}/revoke/").status_code == 403
    assert viewer.patch(f"/api/workspaces/{workspace.pk}/retention/", {"event_days": 3},
                        format="json").status_code == 403
    assert AuditEntry.objects.count() == baseline


def test_a_change_whose_entry_cannot_be_written_does_not_happen(alice, alice_api, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    graph_id = create_graph(alice_api, tagged_spec("one"))
    save_version(alice_api, graph_id, tagged_spec("two"))
    publish(alice_api, graph_id, "ask", version=1)
    key = make_key(alice_api)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the log is unwritable")

    monkeypatch.setattr(AuditEntry.objects, "create", broken)
    alice_api.raise_request_exception = False
    assert alice_api.post("/api/endpoints/ask/publish/", {"version": 2}, format="json").status_code == 500
    assert alice_api.post(f"/api/api-keys/{key['id']}/revoke/").status_code == 500
    endpoint = Endpoint.objects.select_related("version").get(slug="ask")
    assert endpoint.version.number == 1 and endpoint.releases.count() == 1
    assert ApiKey.objects.get(pk=key["id"]).revoked_at is None


@pytest.mark.django_db(transaction=True)
def test_an_entry_cannot_be_written_outside_the_change_s_transaction(alice) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record(actor=alice, workspace=workspace_of(alice), action="retention.changed",
                     target=Target("workspace", 1, "w"), before={}, after={"event_days": 1})
    assert AuditEntry.objects.count() == 0


# --------------------------------------------------------------------------- append-only


def test_entries_cannot_be_changed_or_deleted(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    make_key(alice_api)
    entry = AuditEntry.objects.get()
    entry.actor_username = "mallory"
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
    with pytest.raises(AppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).update(actor_username="mallory")
    with pytest.raises(AppendOnly):
        AuditEntry.objects.all().delete()
    with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET actor_username = 'mallory'")
    assert AuditEntry.objects.get().actor_username == "alice"


def test_the_request_id_is_kept_when_the_caller_sends_one(alice, alice_api) -> None:  # type: ignore[no-untyped-def]
    make_key(alice_api)
    alice_api.post("/api/api-keys/", {"name": "tagged"}, format="json", HTTP_X_REQUEST_ID="req-abc-123")
    alice_api.post("/api/api-keys/", {"name": "odd"}, format="json", HTTP_X_REQUEST_ID="bad id with spaces")
    assert [e.request_id for e in entries()] == ["", "req-abc-123", ""]


def test_role_changes_recorded_through_audit_record(alice) -> None:  # type: ignore[no-untyped-def]
    """The one call member management makes (helper "authz" owns those services)."""
    from backend.audit import describe as audited

    workspace = workspace_of(alice)
    bob = member(workspace, "bobby", "viewer")
    membership = Membership.objects.select_related("user").get(user=bob, workspace=workspace)
    with transaction.atomic():
        before = audited.member_state(membership)
        membership.role = "editor"
        membership.save()
        audit_record(actor=alice, workspace=workspace, action="member.role_changed",
                     target=audited.member_target(membership), before=before, after=audited.member_state(membership))
    entry = only("member.role_changed")
    assert (entry.target_type, entry.target_id, entry.target_name) == ("member", str(bob.pk), "bobby")
    assert (entry.before, entry.after) == ({"role": "viewer"}, {"role": "editor"})
