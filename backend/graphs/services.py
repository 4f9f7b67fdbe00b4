"""Writes: graphs and prompts, always as new immutable versions."""
from __future__ import annotations

from typing import Any

from django.db import transaction
from rest_framework import status

from backend.audit import describe as audited
from backend.audit.services import audit_if_changed
from backend.config.errors import InvalidRequest
from backend.config.storable import NUL_PROBLEM, nul_path
from backend.engine import Problem, validate_graph
from backend.engine.graph_refs import subgraph_ref_sites
from backend.engine.problems import WARNING, blocking
from backend.engine.templates import analyse

from .authz import Action, label_action, require
from .models import Graph, GraphVersion, Membership, Prompt, PromptLabel, PromptVersion, Workspace, content_hash
from .selectors import pin_subgraph_refs, referencing_versions, validation_context
from .signals import prompt_label_moved

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


def graph_problems(*, workspace: Workspace, spec: Any, graph: Graph | None = None) -> list[dict[str, Any]]:
    """Every problem with the spec, warnings included (they carry ``"severity": "warning"``)."""
    return [p.to_dict() for p in _check(workspace, spec, graph)[1]]


def graph_warnings(*, graph: Graph) -> list[dict[str, Any]]:
    """The warnings of the graph's latest version (a save answers with them: saved, but worth a look)."""
    spec = graph.latest_version.spec if graph.latest_version else None
    return [p for p in graph_problems(workspace=graph.workspace, spec=spec, graph=graph)
            if p.get("severity") == WARNING] if spec else []


def _check(workspace: Workspace, spec: Any, graph: Graph | None) -> tuple[Any, list[Problem]]:
    """The spec as it would be stored (references pinned to ids) and every problem with it."""
    pinned = pin_subgraph_refs(workspace, spec)
    # A reference that could not be pinned has one clear problem from pinning; the engine's generic
    # "no saved graph matches" at the same path would only repeat it.
    taken = {p.path for p in pinned.problems}
    problems = pinned.problems + [p for p in validate_graph(pinned.spec, validation_context(workspace, pinned.spec, graph),
                                                            warnings=True)
                                  if p.path not in taken]
    return pinned.spec, problems


def _require_valid(workspace: Workspace, spec: Any, graph: Graph | None = None) -> Any:
    """The spec to store, references pinned; raises InvalidRequest (nothing saved) when it has problems."""
    nul = nul_path(spec, "")
    if nul is not None:
        raise InvalidRequest("The graph cannot be stored; nothing was saved.",
                             [{"path": f"spec.{nul}".rstrip("."), "message": NUL_PROBLEM}], code="invalid_graph")
    if next(subgraph_ref_sites(spec), None) is not None:
        # A delete of a graph this one references waits for this save, and sees the reference (graph_delete).
        Workspace.objects.select_for_update().filter(pk=workspace.pk).first()
    pinned, problems = _check(workspace, spec, graph)
    problems = blocking(problems)  # warnings do not stop a save
    if problems:
        raise InvalidRequest(f"The graph has {len(problems)} problem{'s' if len(problems) > 1 else ''}; "
                             "nothing was saved.", [{**p.to_dict(), "path": f"spec.{p.path}".rstrip(".")}
                                                    for p in problems], code="invalid_graph")
    return pinned


@transaction.atomic
def graph_create(*, workspace: Workspace, user: Any, spec: dict[str, Any], message: str = "") -> Graph:
    require(user, workspace, Action.GRAPH_CHANGE)
    spec = _require_valid(workspace, spec)
    graph = Graph.objects.create(workspace=workspace, name=spec["name"], created_by=user)
    _add_version(graph, user, spec, message or "Created")
    return graph


@transaction.atomic
def graph_save_version(*, graph: Graph, user: Any, spec: dict[str, Any], message: str = "",
                       reason: str = GraphVersion.Reason.SAVE) -> tuple[GraphVersion, bool]:
    """Save a new version, or return the latest when nothing changed (no empty versions).

    A new name is a rename: references to this graph are by id, so they keep working.
    """
    require(user, graph.workspace, Action.GRAPH_CHANGE)
    spec = _require_valid(graph.workspace, spec, graph)
    graph = Graph.objects.select_for_update().get(pk=graph.pk)  # numbers versions one save at a time
    latest = graph.latest_version
    if latest is not None and latest.content_hash == content_hash(spec):
        return latest, False
    return _add_version(graph, user, spec, message, reason), True


class GraphInUse(InvalidRequest):
    """409: the graph is referenced by another graph's latest version or by a live endpoint."""

    status_code = status.HTTP_409_CONFLICT


@transaction.atomic
def graph_delete(*, graph: Graph, user: Any) -> None:
    """Delete a graph, unless something current still runs it: refused (409) while another graph's latest
    version, or a version a live endpoint serves, references it. Older versions that reference it are
    history: they fail with a clear error if run, and cannot be restored without picking another graph."""
    require(user, graph.workspace, Action.GRAPH_CHANGE)
    Workspace.objects.select_for_update().filter(pk=graph.workspace_id).first()  # see _require_valid
    users = referencing_versions(graph)
    if users:
        names = ", ".join(f"'{v.graph.name}' v{v.number}" for v in users[:10])
        raise GraphInUse(f"'{graph.name}' is used as a subgraph by {names}{' and more' if len(users) > 10 else ''}: "
                             "change those first; nothing was deleted.",
                             [{"path": "", "message": f"used by graph #{v.graph_id} '{v.graph.name}' version {v.number}",
                               "graph": v.graph_id, "version": v.number} for v in users],
                             code="graph_in_use")
    graph.delete()


def _add_version(graph: Graph, user: Any, spec: dict[str, Any], message: str,
                 reason: str = GraphVersion.Reason.SAVE) -> GraphVersion:
    number = (graph.latest_version.number if graph.latest_version else 0) + 1
    version = GraphVersion.objects.create(graph=graph, number=number, spec=spec, content_hash=content_hash(spec),
                                          author=user, message=message, reason=reason)
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
    was = PromptLabel.objects.filter(prompt=prompt, name=NEW_VERSION_LABEL).select_related("version").first()
    PromptLabel.objects.update_or_create(prompt=prompt, name=NEW_VERSION_LABEL,
                                         defaults={"version": version, "moved_by": user})
    prompt_label_moved.send(sender=PromptLabel, prompt=prompt, label=NEW_VERSION_LABEL,
                            before=was.version if was else None, after=version, user=user)
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
    was = PromptLabel.objects.select_for_update().filter(prompt=prompt, name=label).select_related("version").first()
    moved, _ = PromptLabel.objects.update_or_create(prompt=prompt, name=label,
                                                    defaults={"version": version, "moved_by": user})
    audit_if_changed(actor=user, workspace=prompt.workspace, action="prompt.label_moved",
                     target=audited.prompt_target(prompt), before=audited.label_state(label, was and was.version),
                     after=audited.label_state(label, version))
    # Graphs whose releases follow this label get a new release (releases/follow.py), in this transaction.
    prompt_label_moved.send(sender=PromptLabel, prompt=prompt, label=label, before=was.version if was else None,
                            after=version, user=user)
    return moved
