"""Reads: what a user may see, and the context a graph is validated in."""
from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from backend.config.params import MAX_INT, whole_number
from backend.engine import Problem, ValidationContext
from backend.engine.graph_refs import graph_key, parse_graph_ref, pinned_ref, subgraph_ref_sites
from backend.engine.runtime import PromptTemplate
from backend.engine.validation import depth_problem, saved_graph_refs
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
        if "\x00" in ref:
            continue  # PostgreSQL text cannot hold U+0000: no prompt is named with one (unknown, like any other)
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
    """The spec of a pinned reference ``#<graph id>@<version>``, in this workspace only; None for any other.

    Only ids resolve here: a name reference is pinned at save (``pin_subgraph_refs``), never at run time, so
    what a saved version runs cannot change when graphs are renamed or created.
    """
    parsed = parse_graph_ref(ref)
    if parsed is None or parsed.graph_id is None:
        return None
    scope = {} if workspace is None else {"graph__workspace": workspace}
    version = GraphVersion.objects.filter(**scope, graph_id=parsed.graph_id, number=parsed.version).first()
    return version.spec if version else None


@dataclass(frozen=True)
class Pinned:
    """A spec with every saved-graph reference in the id form, and what could not be pinned."""

    spec: Any
    problems: list[Problem]
    graph_ids: set[int]  # the graphs it references (to lock against a concurrent delete)


def pin_subgraph_refs(workspace: Workspace | None, spec: Any) -> Pinned:
    """Rewrite every reference to the id form, once, at save: ``"shouter@3"`` → ``"#12@3"``.

    A name resolves only when exactly one graph in the workspace has it; an id only when that graph is in the
    workspace. A display ``name`` beside an id (an exported file) is dropped: the canvas shows the current
    name. ``workspace=None`` (the command line) looks in every workspace. The input is not modified.
    """
    if depth_problem(spec, "") is not None:
        return Pinned(spec=spec, problems=[], graph_ids=set())  # validation refuses it; a deep copy would recurse
    spec = copy.deepcopy(spec)
    problems: list[Problem] = []
    ids: set[int] = set()
    graphs = Graph.objects.all() if workspace is None else Graph.objects.filter(workspace=workspace)
    for path, sub in subgraph_ref_sites(spec):
        where = f"{path}.graph"
        exported_name = sub.pop("name", None)
        ref = parse_graph_ref(sub["graph"])
        if ref is None:
            continue  # the config schema names what is wrong with it
        node_id = _node_id(spec, path)
        if ref.graph_id is None:
            # PostgreSQL text cannot hold U+0000, so no graph is named with one: don't ask.
            matches = [] if "\x00" in (ref.name or "") else list(graphs.filter(name=ref.name)
                                                          .select_related("latest_version")[:6])
            if len(matches) != 1:
                problems.append(Problem(where, f"no saved graph is named '{ref.name}'" if not matches else
                                        f"{len(matches)} graphs are named '{ref.name}' "
                                        f"({', '.join(f'#{g.pk}' for g in matches)}): pick one in the canvas",
                                        node_id))
                continue
            graph = matches[0]
        else:
            found = graphs.filter(pk=ref.graph_id).select_related("latest_version").first()
            if found is None:
                hint = f" (it was '{exported_name}' where this file came from)" if isinstance(exported_name, str) else ""
                problems.append(Problem(where, f"there is no graph #{ref.graph_id} in this workspace{hint}: "
                                               "pick the graph again", node_id))
                continue
            graph = found
        if not graph.versions.filter(number=ref.version).exists():
            latest = graph.latest_version.number if graph.latest_version else 0
            problems.append(Problem(where, f"graph '{graph.name}' (#{graph.pk}) has no version {ref.version} "
                                           f"(latest: {latest})", node_id))
            continue
        sub["graph"] = pinned_ref(graph.pk, ref.version)
        ids.add(graph.pk)
    return Pinned(spec=spec, problems=problems, graph_ids=ids)


def _node_id(spec: Any, path: str) -> str | None:
    """The id of the top-level node a path sits in ("nodes[2].config..." → that node's id)."""
    match = re.match(r"nodes\[([0-9]+)\]", path)
    if not match or not isinstance(spec, dict) or not isinstance(spec.get("nodes"), list):
        return None
    node = spec["nodes"][int(match.group(1))]
    return node.get("id") if isinstance(node, dict) and isinstance(node.get("id"), str) else None


def referencing_versions(graph: Graph) -> list[GraphVersion]:
    """The versions whose removal with ``graph`` would break something: every other graph's latest version,
    and every version a live endpoint serves, that references any version of ``graph``."""
    from backend.endpoints.models import Endpoint  # endpoints depends on graphs, not the other way round

    key = f"#{graph.pk}"
    latest = Graph.objects.filter(workspace=graph.workspace_id).exclude(pk=graph.pk).values("latest_version")
    served = Endpoint.objects.filter(workspace=graph.workspace_id, enabled=True).values("version")
    candidates = (GraphVersion.objects.filter(Q(pk__in=latest) | Q(pk__in=served))
                  .exclude(graph=graph).select_related("graph").order_by("graph__name", "number"))
    return [v for v in candidates if any(graph_key(ref) == key for ref in saved_graph_refs(v.spec))]


MAX_DEPENDENCIES = 50


def subgraph_specs(workspace: Workspace | None, spec: Any) -> dict[str, dict[str, Any]]:
    """Every saved graph a spec reaches through subgraph references, transitively ("#12@3" → spec)."""
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


def dependencies(workspace: Workspace | None, spec: Any, pins: Mapping[str, str] | None = None) -> Dependencies:
    """``pins`` (a release's prompts: ``{"greeting@production": "greeting@3"}``) resolve those references to
    the pinned version, whatever their label points at now."""
    subgraphs = subgraph_specs(workspace, spec)
    refs = prompt_refs_in(spec)
    for doc in subgraphs.values():
        refs |= prompt_refs_in(doc)
    pins = pins or {}
    prompts = prompt_templates(workspace, {ref for ref in refs if ref not in pins})
    pinned = prompt_templates(workspace, {pins[ref] for ref in refs if ref in pins})
    for ref in refs:
        if ref in pins and pins[ref] in pinned:
            prompts[ref] = dataclasses.replace(pinned[pins[ref]], ref=ref)
    return Dependencies(prompts=prompts, subgraphs=subgraphs)


def validation_context(workspace: Workspace | None, spec: Any, graph: Graph | None = None) -> ValidationContext:
    """``graph``: the saved graph this spec becomes a version of, so references back to it are refused."""
    deps = dependencies(workspace, spec)
    return ValidationContext(prompts=deps.prompts, model_aliases=known_aliases(), subgraphs=deps.subgraphs,
                             graph_key=f"#{graph.pk}" if graph is not None else None)
