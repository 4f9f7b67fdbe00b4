"""Existing endpoints serve a release: one per version they serve, with the prompts it resolves today.

Per graph, the endpoint published most recently follows ``production`` with every endpoint serving the same
version; an endpoint of that graph serving another version follows a label of its own
(``endpoint-<slug>``), so nothing a caller gets changes. Model settings were not recorded before releases:
those releases have none (aliases resolve live either way). Prompt references resolve as their labels point
now, which is what these endpoints ran until this migration.
"""
from __future__ import annotations

from typing import Any

from django.db import migrations

from backend.engine.canonical import canonical_hash
from backend.engine.validation import saved_graph_refs


def _prompt_refs(value: Any) -> set[str]:
    refs: set[str] = set()
    if isinstance(value, dict):
        for key, sub in value.items():
            if key == "prompt_ref" and isinstance(sub, str):
                refs.add(sub)
            else:
                refs |= _prompt_refs(sub)
    elif isinstance(value, list):
        for sub in value:
            refs |= _prompt_refs(sub)
    return refs


def _pins(apps: Any, version: Any) -> dict[str, str]:
    GraphVersion = apps.get_model("graphs", "GraphVersion")
    PromptVersion = apps.get_model("graphs", "PromptVersion")
    PromptLabel = apps.get_model("graphs", "PromptLabel")
    workspace_id = version.graph.workspace_id
    docs, seen, pending = [version.spec], set(), list(saved_graph_refs(version.spec))
    while pending and len(seen) < 50:
        ref = pending.pop()
        if ref in seen or not ref.startswith("#") or "@" not in ref:
            continue
        seen.add(ref)
        graph_id, _, number = ref[1:].partition("@")
        sub = GraphVersion.objects.filter(graph__workspace_id=workspace_id, graph_id=graph_id,
                                          number=number).first() if graph_id.isdigit() and number.isdigit() else None
        if sub is not None:
            docs.append(sub.spec)
            pending += saved_graph_refs(sub.spec)
    pins: dict[str, str] = {}
    for ref in sorted(set().union(*(_prompt_refs(d) for d in docs))):
        name, _, selector = ref.partition("@")
        if selector.isdigit():
            found = PromptVersion.objects.filter(prompt__workspace_id=workspace_id, prompt__name=name,
                                                 number=int(selector)).first()
        else:
            label = PromptLabel.objects.filter(prompt__workspace_id=workspace_id, prompt__name=name,
                                               name=selector).select_related("version").first()
            found = label.version if label else None
        if found is not None:
            pins[ref] = f"{name}@{found.number}"
    return pins


def forwards(apps: Any, schema_editor: Any) -> None:
    Endpoint = apps.get_model("endpoints", "Endpoint")
    EndpointRelease = apps.get_model("endpoints", "EndpointRelease")
    Release = apps.get_model("releases", "Release")
    ReleaseLabel = apps.get_model("releases", "ReleaseLabel")
    LabelMove = apps.get_model("releases", "LabelMove")
    graph_ids = Endpoint.objects.filter(version__isnull=False).order_by().values_list("graph_id", flat=True).distinct()
    for graph_id in graph_ids:
        endpoints = list(Endpoint.objects.filter(graph_id=graph_id, version__isnull=False)
                         .select_related("version__graph").order_by("-updated_at", "-pk"))
        releases: dict[int, Any] = {}
        for endpoint in endpoints:
            version = endpoint.version
            if version.pk not in releases:
                pins = _pins(apps, version)
                releases[version.pk] = Release.objects.create(
                    graph_id=graph_id, number=len(releases) + 1, version=version, prompts=pins, model_settings={},
                    content_hash=canonical_hash({"version": version.pk, "prompts": pins}), reason="migrated",
                    note="the version this endpoint served when releases were introduced")
            release = releases[version.pk]
            label = "production" if version.pk == endpoints[0].version_id else f"endpoint-{endpoint.slug}"[:50]
            endpoint.label = label
            endpoint.save(update_fields=["label"])
            if not ReleaseLabel.objects.filter(graph_id=graph_id, name=label).exists():
                ReleaseLabel.objects.create(graph_id=graph_id, name=label, release=release)
                LabelMove.objects.create(graph_id=graph_id, label=label, to_release=release, reason="migrated",
                                         note="releases introduced")
            EndpointRelease.objects.filter(endpoint=endpoint, version=version).update(release=release)


class Migration(migrations.Migration):
    dependencies = [
        ("endpoints", "0005_endpoint_follows_release_label"),
        ("releases", "0001_releases_and_labels"),
        ("graphs", "0006_workspace_monthly_spend_cap"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
