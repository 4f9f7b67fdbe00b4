"""Writes: graphs and prompts, always as new immutable versions."""
from __future__ import annotations

from typing import Any

from django.db import transaction

from backend.config.errors import InvalidRequest
from backend.config.storable import NUL_PROBLEM, nul_path
from backend.engine import validate_graph
from backend.engine.templates import analyse

from .authz import Action, label_action, require
from .models import Graph, GraphVersion, Membership, Prompt, PromptLabel, PromptVersion, Workspace, content_hash
from .selectors import validation_context

NEW_VERSION_LABEL = "staging"  # a new prompt version lands on staging; production moves on publish


def workspace_for_user(user: Any) -> Workspace:
    """The user's first workspace, made on first use so a new account can start at once."""
    membership = Membership.objects.filter(user=user).select_related("workspace").order_by("id").first()
    if membership:
        return membership.workspace
    with transaction.atomic():
        workspace = Workspace.objects.create(name=f"{user.get_username()}'s workspace")
        Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.ADMIN)
    return workspace


def graph_problems(*, workspace: Workspace, spec: Any) -> list[dict[str, Any]]:
    return [p.to_dict() for p in validate_graph(spec, validation_context(workspace, spec))]


def _require_valid(workspace: Workspace, spec: Any) -> None:
    nul = nul_path(spec, "")
    if nul is not None:
        raise InvalidRequest("The graph cannot be stored; nothing was saved.",
                             [{"path": f"spec.{nul}".rstrip("."), "message": NUL_PROBLEM}], code="invalid_graph")
    problems = graph_problems(workspace=workspace, spec=spec)
    if problems:
        raise InvalidRequest(f"The graph has {len(problems)} problem{'s' if len(problems) > 1 else ''}; "
                             "nothing was saved.", [{**p, "path": f"spec.{p['path']}".rstrip(".")}
                                                    for p in problems], code="invalid_graph")


@transaction.atomic
def graph_create(*, workspace: Workspace, user: Any, spec: dict[str, Any], message: str = "") -> Graph:
    require(user, workspace, Action.GRAPH_CHANGE)
    _require_valid(workspace, spec)
    graph = Graph.objects.create(workspace=workspace, name=spec["name"], created_by=user)
    _add_version(graph, user, spec, message or "Created")
    return graph


@transaction.atomic
def graph_save_version(*, graph: Graph, user: Any, spec: dict[str, Any], message: str = "") -> tuple[GraphVersion, bool]:
    """Save a new version, or return the latest when nothing changed (no empty versions)."""
    require(user, graph.workspace, Action.GRAPH_CHANGE)
    _require_valid(graph.workspace, spec)
    graph = Graph.objects.select_for_update().get(pk=graph.pk)  # numbers versions one save at a time
    latest = graph.latest_version
    if latest is not None and latest.content_hash == content_hash(spec):
        return latest, False
    return _add_version(graph, user, spec, message), True


def graph_delete(*, graph: Graph, user: Any) -> None:
    require(user, graph.workspace, Action.GRAPH_CHANGE)
    graph.delete()


def _add_version(graph: Graph, user: Any, spec: dict[str, Any], message: str) -> GraphVersion:
    number = (graph.latest_version.number if graph.latest_version else 0) + 1
    version = GraphVersion.objects.create(graph=graph, number=number, spec=spec, content_hash=content_hash(spec),
                                          author=user, message=message)
    graph.latest_version = version
    graph.name = spec["name"]
    graph.save(update_fields=["latest_version", "name", "updated_at"])
    return version


def _template_problems(field: str, source: str) -> list[dict[str, Any]]:
    refs = analyse(source)
    problems = []
    if refs.syntax_error:
        problems.append({"path": field, "message": f"template syntax error, {refs.syntax_error}"})
    for attr in sorted(refs.private_attributes):
        problems.append({"path": field, "message": f"'{attr}' is not allowed in a template"})
    return problems


def _check_prompt_text(template: str, system: str) -> None:
    problems = _template_problems("template", template) + _template_problems("system", system)
    if problems:
        raise InvalidRequest("The prompt has problems; nothing was saved.", problems)


@transaction.atomic
def prompt_create(*, workspace: Workspace, user: Any, name: str, template: str, system: str = "",
                  description: str = "", message: str = "") -> Prompt:
    require(user, workspace, Action.PROMPT_CHANGE)
    _check_prompt_text(template, system)
    if Prompt.objects.filter(workspace=workspace, name=name).exists():
        raise InvalidRequest("A prompt with this name exists.", [{"path": "name", "message": f"'{name}' is taken"}])
    prompt = Prompt.objects.create(workspace=workspace, name=name, description=description)
    version = _add_prompt_version(prompt, user, template, system, message or "Created")
    for label in ("production", "staging"):
        PromptLabel.objects.create(prompt=prompt, name=label, version=version, moved_by=user)
    return prompt


@transaction.atomic
def prompt_version_create(*, prompt: Prompt, user: Any, template: str, system: str = "",
                          message: str = "") -> PromptVersion:
    require(user, prompt.workspace, Action.PROMPT_CHANGE)
    _check_prompt_text(template, system)
    prompt = Prompt.objects.select_for_update().get(pk=prompt.pk)
    version = _add_prompt_version(prompt, user, template, system, message)
    PromptLabel.objects.update_or_create(prompt=prompt, name=NEW_VERSION_LABEL,
                                         defaults={"version": version, "moved_by": user})
    return version


def _add_prompt_version(prompt: Prompt, user: Any, template: str, system: str, message: str) -> PromptVersion:
    last = prompt.versions.order_by("-number").first()
    return PromptVersion.objects.create(
        prompt=prompt, number=(last.number if last else 0) + 1, template=template, system=system,
        content_hash=content_hash({"template": template, "system": system}), author=user, message=message)


@transaction.atomic
def prompt_label_move(*, prompt: Prompt, user: Any, label: str, version_number: int) -> PromptLabel:
    """Point a label at a version: publishing and rolling back are both this move."""
    require(user, prompt.workspace, label_action(label))
    version = prompt.versions.filter(number=version_number).first()
    if version is None:
        raise InvalidRequest("No such version.", [{"path": "version",
                                                   "message": f"prompt '{prompt.name}' has no version {version_number}"}])
    moved, _ = PromptLabel.objects.update_or_create(prompt=prompt, name=label,
                                                    defaults={"version": version, "moved_by": user})
    return moved
