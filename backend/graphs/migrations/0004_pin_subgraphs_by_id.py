"""Pin every stored subgraph reference by graph id: ``{"graph": "shouter@3"}`` → ``{"graph": "#12@3"}``.

Versions are immutable, and this keeps them so in meaning: each name reference is
rewritten to the graph it resolves to *today* (the run-time rule until now: the
most recently updated graph of that name in the version's workspace), so every
stored version runs exactly what it ran before the migration, and from now on
nothing a user renames or creates can change that. The alternative, reading the
name form for ever, would keep the very drift this fixes. The content hash is
recomputed with the spec, so an unchanged re-save still makes no new version.

A reference that resolves to nothing today is left as it is: it was broken
before (the run fails "could not be found") and stays visibly broken.
Not reversible in meaning (names drift): reversing leaves the id form, which the
code of the previous release cannot resolve; restore a backup to go back.
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from django.db import migrations

# Frozen copies of the rules at the time of writing: later code must not change what this migration does.
LEGACY_REF = re.compile(r"([^@\s#][^@\s]{0,199})@([0-9]{1,9})")


def content_hash(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def ref_objects(value: Any) -> list[dict[str, Any]]:
    """Every ``{"graph": ...}`` object under a ``subgraph`` key, at any depth (inline subgraphs included)."""
    found, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            sub = item.get("subgraph")
            if isinstance(sub, dict) and isinstance(sub.get("graph"), str):
                found.append(sub)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def pin(apps: Any, schema_editor: Any) -> None:
    GraphVersion = apps.get_model("graphs", "GraphVersion")
    resolved: dict[tuple[int, str, int], int | None] = {}

    def resolve(workspace_id: int, name: str, number: int) -> int | None:
        key = (workspace_id, name, number)
        if key not in resolved:
            target = (GraphVersion.objects.filter(graph__workspace_id=workspace_id, graph__name=name, number=number)
                      .order_by("-graph__updated_at").values_list("graph_id", flat=True).first())
            resolved[key] = target
        return resolved[key]

    versions = GraphVersion.objects.select_related("graph").order_by("pk")
    for version in versions.iterator(chunk_size=200):
        spec = version.spec
        changed = False
        for sub in ref_objects(spec):
            match = LEGACY_REF.fullmatch(sub["graph"])
            if not match:
                continue
            graph_id = resolve(version.graph.workspace_id, match.group(1), int(match.group(2)))
            if graph_id is not None:
                sub["graph"] = f"#{graph_id}@{int(match.group(2))}"
                changed = True
        if changed:
            # .update(): the model refuses save() on an existing version (immutable); this is a format upgrade.
            GraphVersion.objects.filter(pk=version.pk).update(spec=spec, content_hash=content_hash(spec))


class Migration(migrations.Migration):
    dependencies = [("graphs", "0003_member_roles")]

    operations = [migrations.RunPython(pin, migrations.RunPython.noop)]
