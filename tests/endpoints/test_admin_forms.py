"""The Django admin's add forms save: an API key gets a generated secret (shown once), an endpoint a signing secret."""
from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.test import Client

from backend.audit.models import AuditEntry
from backend.endpoints.auth import authenticate_api_key
from backend.endpoints.models import ApiKey, Endpoint
from backend.graphs.services import workspace_for_user
from tests.endpoints.conftest import create_graph, tagged_spec

KEY_IN_MESSAGE = re.compile(r"The key for '([^']+)' is (\S+) ")


@pytest.fixture
def staff(db: Any) -> Client:
    """A superuser who is no member of the workspace: the admin is the deployment's tool, not a workspace's."""
    get_user_model().objects.create_superuser("root", password="root-pass-123")
    client = Client()
    assert client.login(username="root", password="root-pass-123")
    return client


def test_admin_adds_an_api_key_and_shows_the_secret_once(staff: Client, alice: Any) -> None:
    workspace = workspace_for_user(alice)
    page = staff.get("/admin/endpoints/apikey/add/")
    assert page.status_code == 200
    # The form asks for what a person decides, never for the hash or prefix.
    assert b'name="secret_hash"' not in page.content and b'name="prefix"' not in page.content

    response = staff.post("/admin/endpoints/apikey/add/", {
        "workspace": workspace.pk, "name": "billing bot", "scopes": "[]",
        "rate_limit_per_minute": "30", "daily_max_cost_usd": ""})
    assert response.status_code == 302, response.context["adminform"].form.errors
    key = ApiKey.objects.get(name="billing bot")
    assert response["Location"] == "/admin/endpoints/apikey/"
    assert (key.workspace, key.rate_limit_per_minute, key.daily_max_cost_usd) == (workspace, 30, None)
    shown = [KEY_IN_MESSAGE.search(str(m)) for m in get_messages(response.wsgi_request)]
    secret = next(m.group(2) for m in shown if m)
    assert secret.startswith(f"pbk_{key.prefix}_")
    assert authenticate_api_key(f"Bearer {secret}").pk == key.pk  # the shown key really works
    assert secret in staff.get(response["Location"]).content.decode()  # the page after saving shows it …
    assert secret not in staff.get(f"/admin/endpoints/apikey/{key.pk}/change/").content.decode()  # … once
    assert secret not in staff.get("/admin/endpoints/apikey/").content.decode()
    assert AuditEntry.objects.filter(action="api_key.created", target_id=str(key.pk)).exists()


def test_admin_api_key_with_an_unknown_scope_is_a_form_error(staff: Client, alice: Any) -> None:
    workspace = workspace_for_user(alice)
    response = staff.post("/admin/endpoints/apikey/add/", {
        "workspace": workspace.pk, "name": "scoped", "scopes": '["nope"]'})
    assert response.status_code == 200
    assert "no endpoint &#x27;nope&#x27; in this workspace" in response.content.decode()
    assert not ApiKey.objects.filter(name="scoped").exists()


def test_admin_adds_an_endpoint_with_a_signing_secret(staff: Client, alice: Any, alice_api: Any) -> None:
    workspace = workspace_for_user(alice)
    graph_id = create_graph(alice_api, tagged_spec("v1"))
    response = staff.post("/admin/endpoints/endpoint/add/", {
        "workspace": workspace.pk, "graph": graph_id, "slug": "from-admin", "description": ""})
    assert response.status_code == 302, response.context["adminform"].form.errors
    endpoint = Endpoint.objects.get(slug="from-admin")
    assert len(endpoint.signing_secret) >= 32
    assert endpoint.created_by is not None and endpoint.created_by.username == "root"


def test_every_admin_add_page_opens(staff: Client) -> None:
    """No admin add form fails to render (a required field it cannot show, a broken widget)."""
    for model, model_admin in admin.site._registry.items():
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/add/"
        status = staff.get(url).status_code
        allowed = model_admin.has_add_permission(staff.get("/admin/").wsgi_request)
        assert status == (200 if allowed else 403), (url, status)


def test_admin_change_forms_save_without_bookkeeping_fields(staff: Client, alice: Any, alice_api: Any) -> None:
    """Editing a graph or a key in the admin saves; who-created/revoked and latest version are not demanded."""
    workspace = workspace_for_user(alice)
    graph_id = create_graph(alice_api, tagged_spec("v1"))
    response = staff.post(f"/admin/graphs/graph/{graph_id}/change/", {"workspace": workspace.pk, "name": "Renamed"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    from backend.graphs.models import Graph

    graph = Graph.objects.get(pk=graph_id)
    assert graph.name == "Renamed" and graph.latest_version is not None and graph.created_by == alice

    key = alice_api.post("/api/api-keys/", {"name": "k"}, format="json").json()
    response = staff.post(f"/admin/endpoints/apikey/{key['id']}/change/", {
        "workspace": workspace.pk, "name": "k renamed", "scopes": "[]", "rate_limit_per_minute": "5"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    row = ApiKey.objects.get(pk=key["id"])
    assert (row.name, row.rate_limit_per_minute, row.created_by) == ("k renamed", 5, alice)
