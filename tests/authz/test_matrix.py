"""The authorization matrix: every route of the URL conf × every persona, against one table of rules.

The routes are read from the URL conf (``get_resolver``), so a route added without a row in ``RULES``
fails ``test_every_route_has_a_rule``. Each case then runs once per persona on a fresh pair of workspaces:

- workspace A: alice (admin), erin (editor), vic (viewer), dave (viewer, the member the members routes act
  on); a graph, a prompt with two versions, a queued run, a published endpoint and an API key, whose
  stored text carries the marker "zebra";
- workspace B: bob (admin), olga (editor) and otto (viewer), the outsiders; sam is staff and a member of neither; carol has an account only.

What each persona must get: below the rule's role, 403 naming the role needed and nothing changed in A;
at or above it, a 2xx (the same request does work); outsiders 404/403 (or, when the workspace is named in
the body, a 400 on that field) and never the marker; anonymous 401/403.
"""
from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from backend.endpoints.models import ApiKey, Endpoint
from backend.endpoints.services import api_key_create, endpoint_create
from backend.evals.datasets import dataset_add_item, dataset_create
from backend.evals.evalruns import eval_start
from backend.evals.models import Dataset, DatasetItem, EvalPolicy, EvalRun, SamplingRule
from backend.graphs.authz import ROLE_ORDER
from backend.graphs.models import Graph, GraphVersion, Membership, Prompt, PromptLabel, PromptVersion, Workspace
from backend.graphs.services import graph_create, prompt_create, prompt_version_create
from backend.insights.models import Projection, RunLabel
from backend.releases.models import LabelMove, Release, ReleaseLabel
from backend.runs.approval_links import make_link
from backend.runs.models import Approval, Run
from backend.runs.services import run_create
from tests.conftest import token_for

MARKER = "zebra"  # in A's stored text only (never in a URL), so an echo of the URL is not a leak

SPEC = {"schema": "patchbay.graph/v1", "name": f"{MARKER} graph", "inputs": {"type": "object"},
        "nodes": [{"id": "input", "type": "input"},
                  {"id": "a", "type": "llm", "config": {"model": "fast", "prompt": "Say {{ input }}"}},
                  {"id": "output", "type": "output", "config": {"value": "{{ nodes.a.output }}"}}],
        "edges": [{"from": "input", "to": "a"}, {"from": "a", "to": "output"}]}


def spec(name: str, prompt: str = "Say {{ input }}") -> dict[str, Any]:
    doc = copy.deepcopy(SPEC)
    doc["name"] = name
    doc["nodes"][1]["config"]["prompt"] = prompt
    return doc


@dataclass
class World:
    a: Workspace
    b: Workspace
    graph: int
    prompt: str
    run: str
    endpoint: str
    key: int
    member: int  # dave's user id
    done: str = ""  # a finished run (a replay needs one)
    projection: int = 0  # a cost projection of the graph
    dataset: int = 0
    item: int = 0
    eval_run: str = ""
    approval: int = 0  # an approval step of ``run``, and a signed one-time link to it
    link: str = ""
    clients: dict[str, APIClient] = field(default_factory=dict)


def person(name: str, workspace: Workspace | None = None, role: str = "", **extra: Any) -> Any:
    user = get_user_model().objects.create_user(name, email=f"{name}@example.test", **extra)  # no password: fast
    if workspace is not None:
        Membership.objects.create(workspace=workspace, user=user, role=role)
    return user


def build_world() -> World:
    a, b = Workspace.objects.create(name="A"), Workspace.objects.create(name="B")
    alice = person("alice", a, Membership.Role.ADMIN)
    people = {"admin": alice, "editor": person("erin", a, Membership.Role.EDITOR),
              "viewer": person("vic", a, Membership.Role.VIEWER), "outsider": person("bob", b, Membership.Role.ADMIN),
              "outsider_editor": person("olga", b, Membership.Role.EDITOR),
              "outsider_viewer": person("otto", b, Membership.Role.VIEWER),
              "staff": person("sam", is_staff=True)}
    dave = person("dave", a, Membership.Role.VIEWER)
    person("carol")
    graph = graph_create(workspace=a, user=alice, spec=spec(f"{MARKER} graph"))
    prompt = prompt_create(workspace=a, user=alice, name="greet", template=f"{MARKER} one {{{{ input }}}}")
    prompt_version_create(prompt=prompt, user=alice, template=f"{MARKER} two {{{{ input }}}}")
    run = run_create(graph=graph, user=alice, input={"note": MARKER})  # stays queued: on_commit never fires here
    endpoint_create(user=alice, graph=graph, slug="ask-a", description=f"{MARKER} endpoint")
    # A second release to move labels to (release 1 is what the endpoint's publish made).
    Release.objects.create(graph=graph, number=2, version=graph.latest_version, content_hash="second", note=MARKER)
    key, _ = api_key_create(user=alice, workspace=a, name=f"{MARKER} key", rate_limit_per_minute=None)
    done = run_create(graph=graph, user=alice, input={"note": MARKER})
    Run.objects.filter(pk=done.pk).update(status=Run.Status.SUCCEEDED, output=MARKER)
    projection = Projection.objects.create(graph=graph, graph_version=graph.latest_version,
                                           inputs=[{"note": MARKER}], created_by=alice)
    dataset = dataset_create(user=alice, workspace=a, name=f"{MARKER} set")
    item = dataset_add_item(user=alice, dataset=dataset, input={"note": MARKER})
    evaluated = eval_start(user=alice, dataset=dataset, graph=graph, scorers=[{"type": "contains", "text": MARKER}])
    asked = timezone.now()
    approval = Approval.objects.create(run=run, workspace=a, node_id="review", span_id="s1", title="Send it?",
                                       draft="a draft", request={"deciders": {"role": "editor"}}, requested_at=asked,
                                       deadline_at=asked + dt.timedelta(days=1), on_deadline="reject")
    world = World(a=a, b=b, graph=graph.pk, prompt=prompt.name, run=str(run.pk), endpoint="ask-a", key=key.pk,
                  member=dave.pk, done=str(done.pk), projection=projection.pk, dataset=dataset.pk, item=item.pk,
                  eval_run=str(evaluated.pk), approval=approval.pk, link=make_link(approval))
    world.clients["anonymous"] = APIClient()
    for name, user in people.items():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
        world.clients[name] = client
    return world


def state_of(w: World) -> tuple[Any, ...]:
    """Everything a refused write must leave as it was in workspace A."""
    return (
        sorted(Graph.objects.filter(workspace=w.a).values_list("pk", "name")),
        GraphVersion.objects.filter(graph__workspace=w.a).count(),
        sorted(Prompt.objects.filter(workspace=w.a).values_list("pk", flat=True)),
        PromptVersion.objects.filter(prompt__workspace=w.a).count(),
        sorted(PromptLabel.objects.filter(prompt__workspace=w.a).values_list("name", "version__number")),
        sorted(Run.objects.filter(workspace=w.a).values_list("pk", "status", "cancel_requested")),
        sorted(Endpoint.objects.filter(workspace=w.a).values_list("slug", "version_id", "enabled")),
        sorted(ReleaseLabel.objects.filter(graph__workspace=w.a).values_list("name", "release__number")),
        LabelMove.objects.filter(graph__workspace=w.a).count(),
        sorted(ApiKey.objects.filter(workspace=w.a).values_list("name", "revoked_at", "scopes")),
        sorted(Membership.objects.filter(workspace=w.a).values_list("user_id", "role")),
        sorted(RunLabel.objects.filter(run__workspace=w.a).values_list("run_id", "node_id", "route", "comment")),
        Projection.objects.filter(graph__workspace=w.a).count(),
        Workspace.objects.filter(pk=w.a.pk).values_list("retention_event_days", "retention_run_days",
                                                        "monthly_cap_usd", "warn_at_fraction").get(),
        sorted(Dataset.objects.filter(workspace=w.a).values_list("pk", "name", "held_out")),
        DatasetItem.objects.filter(dataset__workspace=w.a).count(),
        sorted(SamplingRule.objects.filter(dataset__workspace=w.a).values_list("graph_id", "rate")),
        EvalPolicy.objects.filter(graph__workspace=w.a).count(),
        EvalRun.objects.filter(workspace=w.a).count(),
    )


# --------------------------------------------------------------------------- the table

PUBLIC = "public"  # anyone, signed in or not
SIGNED_IN = "signed in"  # any account: deployment-wide data, no workspace's
STAFF = "staff"  # deployment-wide writes (model aliases)
API_KEY = "api key"  # published flows: only a Bearer API key (tested in test_live.py); a person's token is 401

# How the target workspace is named: in the URL (outsiders get 404/403), in the body (outsiders may also get
# a 400 on that field), or not at all (a list: outsiders get 200 without A's data).
URL, BODY, LIST = "url", "body", "list"


@dataclass(frozen=True)
class Case:
    method: str
    minimum: str
    path: Callable[[World], str]
    body: Callable[[World], Any] | None = None
    scope: str = URL
    name: str = ""


def case(method: str, minimum: str, path: Callable[[World], str], body: Callable[[World], Any] | None = None,
         scope: str = URL, name: str = "") -> Case:
    return Case(method, minimum, path, body, scope, name)


V, E, A = Membership.Role.VIEWER, Membership.Role.EDITOR, Membership.Role.ADMIN

RULES: dict[str, list[Case]] = {
    "api/graphs/": [
        case("GET", V, lambda w: "/api/graphs/", scope=LIST),
        case("POST", E, lambda w: "/api/graphs/", lambda w: {"spec": spec("new"), "workspace": w.a.pk}, BODY)],
    "api/graphs/validate/": [
        case("POST", V, lambda w: "/api/graphs/validate/", lambda w: {"spec": spec("check"), "workspace": w.a.pk},
             BODY)],
    "api/graphs/<int:graph_id>/": [
        case("GET", V, lambda w: f"/api/graphs/{w.graph}/"),
        case("PUT", E, lambda w: f"/api/graphs/{w.graph}/", lambda w: {"spec": spec("changed", "Hi {{ input }}")}),
        case("DELETE", E, lambda w: f"/api/graphs/{w.graph}/")],
    "api/graphs/<int:graph_id>/versions/": [case("GET", V, lambda w: f"/api/graphs/{w.graph}/versions/")],
    "api/graphs/<int:graph_id>/versions/<int:number>/": [case("GET", V, lambda w: f"/api/graphs/{w.graph}/versions/1/")],
    "api/graphs/<int:graph_id>/restore/": [
        case("POST", E, lambda w: f"/api/graphs/{w.graph}/restore/", lambda w: {"version": 1})],
    "api/graphs/<int:graph_id>/duplicate/": [case("POST", E, lambda w: f"/api/graphs/{w.graph}/duplicate/", lambda w: {})],
    "api/graphs/<int:graph_id>/releases/": [
        case("GET", V, lambda w: f"/api/graphs/{w.graph}/releases/"),
        case("POST", E, lambda w: f"/api/graphs/{w.graph}/releases/", lambda w: {"version": 1, "note": "by hand"})],
    "api/graphs/<int:graph_id>/releases/diff/": [
        case("GET", V, lambda w: f"/api/graphs/{w.graph}/releases/diff/?from=1&to=1")],
    "api/graphs/<int:graph_id>/releases/<int:number>/": [case("GET", V, lambda w: f"/api/graphs/{w.graph}/releases/1/")],
    "api/graphs/<int:graph_id>/labels/<slug:label>/": [
        case("GET", V, lambda w: f"/api/graphs/{w.graph}/labels/production/?release=1"),
        case("PUT", E, lambda w: f"/api/graphs/{w.graph}/labels/staging/", lambda w: {"release": 2}, name="staging"),
        case("PUT", A, lambda w: f"/api/graphs/{w.graph}/labels/production/", lambda w: {"release": 2},
             name="production")],
    "api/node-types/": [case("GET", SIGNED_IN, lambda w: "/api/node-types/", scope=LIST)],
    "api/prompts/": [
        case("GET", V, lambda w: "/api/prompts/", scope=LIST),
        case("POST", E, lambda w: "/api/prompts/", lambda w: {"name": "fresh", "template": "Hi", "workspace": w.a.pk},
             BODY)],
    "api/prompts/<slug:name>/versions/": [
        case("GET", V, lambda w: f"/api/prompts/{w.prompt}/versions/"),
        case("POST", E, lambda w: f"/api/prompts/{w.prompt}/versions/", lambda w: {"template": "Three"})],
    "api/prompts/<slug:name>/labels/<slug:label>/": [
        case("PUT", E, lambda w: f"/api/prompts/{w.prompt}/labels/staging/", lambda w: {"version": 1}, name="staging"),
        case("PUT", A, lambda w: f"/api/prompts/{w.prompt}/labels/production/", lambda w: {"version": 2},
             name="production")],
    "api/workspaces/<int:workspace_id>/retention/": [
        case("GET", V, lambda w: f"/api/workspaces/{w.a.pk}/retention/"),
        case("PATCH", A, lambda w: f"/api/workspaces/{w.a.pk}/retention/", lambda w: {"event_days": 7})],
    "api/workspaces/<int:workspace_id>/spend/": [
        case("GET", V, lambda w: f"/api/workspaces/{w.a.pk}/spend/"),
        case("PATCH", A, lambda w: f"/api/workspaces/{w.a.pk}/spend/", lambda w: {"monthly_cap_usd": 5})],
    "api/workspaces/<int:workspace_id>/members/": [
        case("GET", V, lambda w: f"/api/workspaces/{w.a.pk}/members/"),
        case("POST", A, lambda w: f"/api/workspaces/{w.a.pk}/members/", lambda w: {"user": "carol", "role": "editor"})],
    "api/workspaces/<int:workspace_id>/members/<int:user_id>/": [
        case("PATCH", A, lambda w: f"/api/workspaces/{w.a.pk}/members/{w.member}/", lambda w: {"role": "editor"}),
        case("DELETE", A, lambda w: f"/api/workspaces/{w.a.pk}/members/{w.member}/")],
    "api/runs/": [
        case("GET", V, lambda w: "/api/runs/", scope=LIST),
        case("POST", E, lambda w: "/api/runs/", lambda w: {"graph": w.graph, "input": {}}, BODY)],
    "api/runs/<str:run_id>/": [case("GET", V, lambda w: f"/api/runs/{w.run}/")],
    "api/runs/<str:run_id>/cancel/": [case("POST", E, lambda w: f"/api/runs/{w.run}/cancel/")],
    "api/runs/<str:run_id>/events/": [case("GET", V, lambda w: f"/api/runs/{w.run}/events/")],
    "api/runs/<str:run_id>/replay/": [case("POST", E, lambda w: f"/api/runs/{w.done}/replay/", lambda w: {})],
    "api/runs/<str:run_id>/compare/<str:other_id>/": [
        case("GET", V, lambda w: f"/api/runs/{w.done}/compare/{w.run}/")],
    "api/runs/<str:run_id>/labels/": [
        case("GET", V, lambda w: f"/api/runs/{w.done}/labels/"),
        case("POST", E, lambda w: f"/api/runs/{w.done}/labels/", lambda w: {"node_id": "a", "verdict": "pass"})],
    "api/graphs/<int:graph_id>/insights/": [case("GET", V, lambda w: f"/api/graphs/{w.graph}/insights/")],
    "api/graphs/<int:graph_id>/projections/": [
        case("GET", V, lambda w: f"/api/graphs/{w.graph}/projections/"),
        case("POST", E, lambda w: f"/api/graphs/{w.graph}/projections/", lambda w: {"inputs": [{"note": "x"}]})],
    "api/projections/<int:projection_id>/": [case("GET", V, lambda w: f"/api/projections/{w.projection}/")],
    "api/approvals/": [case("GET", V, lambda w: "/api/approvals/", scope=LIST)],
    "api/approvals/<int:approval_id>/": [case("GET", V, lambda w: f"/api/approvals/{w.approval}/")],
    "api/approvals/<int:approval_id>/decide/": [
        case("POST", E, lambda w: f"/api/approvals/{w.approval}/decide/", lambda w: {"action": "approve"})],
    "api/approvals/<int:approval_id>/link/": [case("POST", E, lambda w: f"/api/approvals/{w.approval}/link/")],
    "api/approval-links/<str:token>/": [
        case("GET", PUBLIC, lambda w: f"/api/approval-links/{w.link}/", scope=LIST),
        case("POST", PUBLIC, lambda w: f"/api/approval-links/{w.link}/", lambda w: {"action": "approve"}, LIST)],
    "api/runs/<str:run_id>/otlp": [case("GET", V, lambda w: f"/api/runs/{w.run}/otlp")],
    "api/workspaces/<int:workspace_id>/audit/": [case("GET", A, lambda w: f"/api/workspaces/{w.a.pk}/audit/")],
    "api/audit/": [case("GET", STAFF, lambda w: "/api/audit/", scope=LIST)],
    "api/datasets/": [case("GET", V, lambda w: "/api/datasets/", scope=LIST),
                      case("POST", E, lambda w: "/api/datasets/", lambda w: {"name": "new", "workspace": w.a.pk}, BODY)],
    "api/datasets/<int:dataset_id>/": [
        case("GET", V, lambda w: f"/api/datasets/{w.dataset}/"),
        case("PATCH", E, lambda w: f"/api/datasets/{w.dataset}/", lambda w: {"held_out": True}),
        case("DELETE", E, lambda w: f"/api/datasets/{w.dataset}/")],
    "api/datasets/<int:dataset_id>/items/": [
        case("POST", E, lambda w: f"/api/datasets/{w.dataset}/items/", lambda w: {"input": {"n": 1}})],
    "api/datasets/<int:dataset_id>/items/<int:item_id>/": [
        case("DELETE", E, lambda w: f"/api/datasets/{w.dataset}/items/{w.item}/")],
    "api/datasets/<int:dataset_id>/add-run/": [
        case("POST", E, lambda w: f"/api/datasets/{w.dataset}/add-run/", lambda w: {"run": w.done})],
    "api/datasets/<int:dataset_id>/import/": [
        case("POST", E, lambda w: f"/api/datasets/{w.dataset}/import/",
             lambda w: {"format": "jsonl", "text": '{"input": 1}\n'})],
    "api/datasets/<int:dataset_id>/export/": [case("GET", V, lambda w: f"/api/datasets/{w.dataset}/export/")],
    "api/datasets/<int:dataset_id>/sampling/": [
        case("PUT", E, lambda w: f"/api/datasets/{w.dataset}/sampling/", lambda w: {"graph": w.graph, "rate": 0.5})],
    "api/evals/": [case("GET", V, lambda w: "/api/evals/", scope=LIST),
                   case("POST", E, lambda w: "/api/evals/", lambda w: {"dataset": w.dataset, "graph": w.graph,
                                                                      "scorers": [{"type": "exact"}]}, BODY)],
    "api/evals/scorers/": [case("GET", SIGNED_IN, lambda w: "/api/evals/scorers/", scope=LIST)],
    "api/evals/<str:eval_id>/": [case("GET", V, lambda w: f"/api/evals/{w.eval_run}/")],
    "api/evals/<str:eval_id>/compare/<str:other_id>/": [
        case("GET", V, lambda w: f"/api/evals/{w.eval_run}/compare/{w.eval_run}/")],
    "api/graphs/<int:graph_id>/eval-policy/": [
        case("GET", V, lambda w: f"/api/graphs/{w.graph}/eval-policy/"),
        case("PUT", E, lambda w: f"/api/graphs/{w.graph}/eval-policy/", lambda w: {"datasets": []})],
    "api/models/": [case("GET", SIGNED_IN, lambda w: "/api/models/", scope=LIST)],
    "api/model-health/": [case("GET", SIGNED_IN, lambda w: "/api/model-health/", scope=LIST)],
    "api/models/<slug:alias>/": [
        case("GET", SIGNED_IN, lambda w: "/api/models/fast/", scope=LIST),
        case("PUT", STAFF, lambda w: "/api/models/fast/", lambda w: {"model": "demo/fast", "description": "changed"}, LIST),
        case("PATCH", STAFF, lambda w: "/api/models/fast/", lambda w: {"model": "demo/fast", "description": "changed"}, LIST)],
    "api/endpoints/": [
        case("GET", V, lambda w: "/api/endpoints/", scope=LIST),
        case("POST", A, lambda w: "/api/endpoints/", lambda w: {"graph": w.graph, "slug": "fresh"}, BODY)],
    "api/endpoints/<slug:slug>/": [
        case("GET", V, lambda w: f"/api/endpoints/{w.endpoint}/"),
        case("PATCH", A, lambda w: f"/api/endpoints/{w.endpoint}/", lambda w: {"label": "production"})],
    "api/endpoints/<slug:slug>/publish/": [
        case("POST", A, lambda w: f"/api/endpoints/{w.endpoint}/publish/", lambda w: {"version": 1})],
    "api/endpoints/<slug:slug>/rollback/": [
        case("POST", A, lambda w: f"/api/endpoints/{w.endpoint}/rollback/", lambda w: {"version": 1})],
    "api/endpoints/<slug:slug>/unpublish/": [
        case("POST", A, lambda w: f"/api/endpoints/{w.endpoint}/unpublish/", lambda w: {})],
    "api/api-keys/": [
        case("GET", V, lambda w: "/api/api-keys/", scope=LIST),
        case("POST", A, lambda w: "/api/api-keys/", lambda w: {"name": "new", "workspace": w.a.pk}, BODY)],
    "api/api-keys/<int:key_id>/": [
        case("GET", V, lambda w: f"/api/api-keys/{w.key}/"),
        case("PATCH", A, lambda w: f"/api/api-keys/{w.key}/", lambda w: {"name": "renamed"})],
    "api/api-keys/<int:key_id>/revoke/": [case("POST", A, lambda w: f"/api/api-keys/{w.key}/revoke/")],
    "api/v1/flows/<slug:slug>/openapi.json": [case("GET", V, lambda w: f"/api/v1/flows/{w.endpoint}/openapi.json")],
    "api/v1/flows/<slug:slug>/run": [
        case("POST", API_KEY, lambda w: f"/api/v1/flows/{w.endpoint}/run", lambda w: {"input": {}})],
    "api/v1/runs/<str:run_id>": [case("GET", API_KEY, lambda w: f"/api/v1/runs/{w.run}")],
    "api/v1/runs/<str:run_id>/events": [case("GET", API_KEY, lambda w: f"/api/v1/runs/{w.run}/events")],
    "v1/chat/completions": [
        case("POST", API_KEY, lambda w: "/v1/chat/completions",
             lambda w: {"model": w.endpoint, "messages": [{"role": "user", "content": "hi"}]})],
    "v1/responses": [case("POST", API_KEY, lambda w: "/v1/responses", lambda w: {"model": w.endpoint, "input": "hi"})],
    "v1/models": [case("GET", API_KEY, lambda w: "/v1/models")],
    "v1/models/<str:model_id>": [case("GET", API_KEY, lambda w: f"/v1/models/{w.endpoint}")],
    "v1/^(?P<rest>.*)$": [case("GET", PUBLIC, lambda w: "/v1/embeddings", scope=LIST)],
    "api/schema/": [case("GET", PUBLIC, lambda w: "/api/schema/", scope=LIST)],
    "api/docs/": [case("GET", PUBLIC, lambda w: "/api/docs/", scope=LIST)],
    "api/schemas/span.json": [case("GET", PUBLIC, lambda w: "/api/schemas/span.json", scope=LIST)],
    "api/schemas/events.json": [case("GET", PUBLIC, lambda w: "/api/schemas/events.json", scope=LIST)],
    "api/session/": [case("GET", PUBLIC, lambda w: "/api/session/", scope=LIST)],
    "api/health/": [case("GET", PUBLIC, lambda w: "/api/health/", scope=LIST, name="health")],
    "api/session/login/": [
        case("POST", PUBLIC, lambda w: "/api/session/login/", lambda w: {"username": "nobody", "password": "x"},
             LIST)],
    "api/session/logout/": [case("POST", PUBLIC, lambda w: "/api/session/logout/", scope=LIST)],
    "static/<path:path>": [case("GET", PUBLIC, lambda w: "/static/missing.js", scope=LIST)],
    r"^(?!api/|admin/|static/|ws/)(?P<route>.*)$": [case("GET", PUBLIC, lambda w: "/graphs/1", scope=LIST,
                                                          name="canvas")],
}

# Django's own admin site: staff only, by Django (every page redirects anyone else to its sign-in).
OWN_RULES_PREFIXES = ("admin/",)


def routes_in_url_conf() -> Iterator[tuple[str, list[str]]]:
    """(route, methods) for every URL pattern; a function view's methods are unknown (an empty list)."""

    def walk(patterns: list[Any], prefix: str) -> Iterator[tuple[str, list[str]]]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                view_class = getattr(pattern.callback, "view_class", None)
                methods = [m.upper() for m in ("get", "post", "put", "patch", "delete")
                           if view_class is not None and hasattr(view_class, m)]
                yield prefix + str(pattern.pattern), methods

    yield from walk(get_resolver().url_patterns, "")


def test_every_route_has_a_rule() -> None:
    seen: set[str] = set()
    for route, methods in routes_in_url_conf():
        if route.startswith(OWN_RULES_PREFIXES):
            continue
        seen.add(route)
        assert route in RULES, f"{route} has no rule in tests/authz/test_matrix.py RULES (and maybe none in " \
                               "backend/graphs/authz.py): say who may call it"
        declared = {c.method for c in RULES[route]}
        if methods:  # a class-based view: every method it answers has a rule, and no rule names a missing one
            assert declared == set(methods), f"{route}: the view answers {sorted(methods)}, rules cover " \
                                             f"{sorted(declared)}"
    assert not set(RULES) - seen, f"rules for routes that no longer exist: {sorted(set(RULES) - seen)}"


# Two workspaces × three roles: A's viewer, editor and admin, and B's (outsiders to A), plus anonymous and staff.
PERSONAS = ("anonymous", "viewer", "editor", "admin", "outsider", "outsider_editor", "outsider_viewer", "staff")
CASES = [(route, c) for route, cases in RULES.items() for c in cases]


def allowed(minimum: str, persona: str) -> bool:
    if minimum == PUBLIC:
        return True
    if persona == "anonymous" or minimum == API_KEY:
        return False
    if minimum == SIGNED_IN:
        return True
    if minimum == STAFF:
        return persona == "staff"
    return persona in ROLE_ORDER and ROLE_ORDER.index(persona) >= ROLE_ORDER.index(minimum)


def call(client: APIClient, c: Case, w: World) -> Any:
    method = getattr(client, c.method.lower())
    body = c.body(w) if c.body else None
    return method(c.path(w), body, format="json") if body is not None else method(c.path(w))


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("route", "c"), CASES, ids=[f"{c.method} {r} {c.name}".strip() for r, c in CASES])
def test_route_answers_each_persona_by_the_rule(db, route: str, c: Case, persona: str) -> None:  # type: ignore[no-untyped-def]
    w = build_world()
    before = state_of(w)
    response = call(w.clients[persona], c, w)
    status, text = response.status_code, response.content.decode(errors="replace")
    # The canvas page before `npm run build`, the health check with no worker up: not an auth matter.
    not_built = c.name in ("canvas", "health") and status == 503
    assert status < 500 or not_built, f"{c.method} {route} as {persona}: {status} {text[:300]}"

    if allowed(c.minimum, persona):
        if c.minimum == PUBLIC:
            assert status not in (401, 403), f"{c.method} {route} is public, {persona} got {status}"
        else:
            assert 200 <= status < 300, f"{c.method} {route}: {persona} may, got {status} {text[:300]}"
        if persona not in ROLE_ORDER:
            assert MARKER not in text.lower(), f"{c.method} {route} showed workspace A's data to {persona}"
        return

    assert MARKER not in text.lower(), f"{c.method} {route} showed workspace A's data to {persona}"
    if c.method != "GET":
        assert state_of(w) == before, f"{c.method} {route} as {persona} was refused ({status}) but changed A"
    if persona == "anonymous" or c.minimum == API_KEY:
        assert status in (401, 403), f"{c.method} {route} as {persona}: {status}, wanted 401/403"
    elif persona in ROLE_ORDER or c.minimum == STAFF:
        assert status == 403, f"{c.method} {route} as {persona}: {status}, wanted 403 {text[:300]}"
        if c.minimum in ROLE_ORDER:
            assert f"the {c.minimum} role" in response.json()["message"], response.json()
    elif c.scope == URL:
        assert status in (403, 404), f"{c.method} {route} as {persona}: {status}, wanted 404/403"
    elif c.scope == BODY:
        assert status in (400, 403, 404), f"{c.method} {route} as {persona}: {status}"
        if status == 400:
            assert {p["path"] for p in response.json()["problems"]} & {"workspace", "graph"}, response.json()
    else:  # a list: the outsider's own (empty) view of it
        assert status == 200 or status == 403, f"{c.method} {route} as {persona}: {status}"
