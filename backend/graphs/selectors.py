"""Reads: what a user may see, and the context a graph is validated in."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from backend.config.params import MAX_INT, whole_number
from backend.engine import ValidationContext
from backend.engine.runtime import PromptTemplate
from backend.engine.validation import saved_graph_refs
from backend.providers.registry import known_aliases

from .models import Graph, GraphVersion, Prompt, PromptLabel, PromptVersion, Workspace


def workspaces_of(user: Any) -> QuerySet[Workspace]:
    return Workspace.objects.filter(membership__user=user)


def graphs_visible_to(user: Any) -> QuerySet[Graph]:
    return Graph.objects.filter(workspace__membership__user=user).select_related("latest_version")


def graph_get(user: Any, graph_id: Any) -> Graph:
    graph = graphs_visible_to(user).filter(pk=graph_id).first()
    if graph is None:
        raise Http404("No such graph in your workspaces")
    return graph


def prompt_get(user: Any, name: str) -> Prompt:
    prompt = Prompt.objects.filter(workspace__membership__user=user, name=name).first()
    if prompt is None:
        raise Http404(f"No prompt named '{name}' in your workspaces")
    return prompt


def prompt_refs_in(value: Any) -> set[str]:
    """Every ``prompt_ref`` anywhere in a spec (pattern nodes nest their steps)."""
    refs: set[str] = set()
    if isinstance(value, dict):
        for key, sub in value.items():
            if key == "prompt_ref" and isinstance(sub, str):
                refs.add(sub)
            else:
                refs |= prompt_refs_in(sub)
    elif isinstance(value, list):
        for sub in value:
            refs |= prompt_refs_in(sub)
    return refs


def prompt_templates(workspace: Workspace | None, refs: Iterable[str]) -> dict[str, PromptTemplate]:
    """Resolve ``name@label`` / ``name@3`` references; unknown ones are simply absent.

    ``workspace=None`` (the command line) looks in every workspace.
    """
    scope = {} if workspace is None else {"prompt__workspace": workspace}
    resolved: dict[str, PromptTemplate] = {}
    for ref in refs:
        name, _, selector = ref.partition("@")
        version: PromptVersion | None
        number = whole_number(selector)  # "²".isdigit() is true, int("²") fails: ASCII digits only
        if number is not None and number <= MAX_INT:
            version = PromptVersion.objects.filter(**scope, prompt__name=name, number=number).first()
        else:
            label = PromptLabel.objects.filter(**scope, prompt__name=name, name=selector).select_related(
                "version").first()
            version = label.version if label else None
        if version is not None:
            resolved[ref] = PromptTemplate(ref=ref, template=version.template, system=version.system or None,
                                           version_id=f"{name}@{version.number}")
    return resolved


def saved_graph(workspace: Workspace | None, ref: str) -> dict[str, Any] | None:
    """The spec of ``name@version`` (the most recently updated graph of that name)."""
    name, _, selector = ref.rpartition("@")
    number = whole_number(selector)
    if number is None or number > MAX_INT:
        return None
    scope = {} if workspace is None else {"graph__workspace": workspace}
    version = (GraphVersion.objects.filter(**scope, graph__name=name, number=number)
               .order_by("-graph__updated_at").first())
    return version.spec if version else None


MAX_DEPENDENCIES = 50


def subgraph_specs(workspace: Workspace | None, spec: Any) -> dict[str, dict[str, Any]]:
    """Every saved graph a spec reaches through subgraph references, transitively ("name@3" → spec)."""
    found: dict[str, dict[str, Any]] = {}
    pending = list(saved_graph_refs(spec))
    while pending and len(found) < MAX_DEPENDENCIES:
        ref = pending.pop()
        if ref in found:
            continue
        doc = saved_graph(workspace, ref)
        if doc is None:
            continue
        found[ref] = doc
        pending += saved_graph_refs(doc)
    return found


@dataclass(frozen=True)
class Dependencies:
    """What a spec needs from storage to validate and run: saved prompts and saved subgraphs."""

    prompts: dict[str, PromptTemplate]
    subgraphs: dict[str, dict[str, Any]]


def dependencies(workspace: Workspace | None, spec: Any) -> Dependencies:
    subgraphs = subgraph_specs(workspace, spec)
    refs = prompt_refs_in(spec)
    for doc in subgraphs.values():
        refs |= prompt_refs_in(doc)
    return Dependencies(prompts=prompt_templates(workspace, refs), subgraphs=subgraphs)


def validation_context(workspace: Workspace | None, spec: Any) -> ValidationContext:
    deps = dependencies(workspace, spec)
    return ValidationContext(prompts=deps.prompts, model_aliases=known_aliases(), subgraphs=deps.subgraphs)
