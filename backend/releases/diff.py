"""What changes for live traffic when a label moves from one release to another, in plain data.

Steps are compared by node id (position on the canvas is not a change), wiring by edges, prompts by the
exact versions each release pinned (with a line diff of their text), models by alias. Aliases resolve
live (snapshot.py), so a model change is one of: a step now names another alias, an alias is used or no
longer used, or an alias's recorded settings differ between the two releases.
"""
from __future__ import annotations

import difflib
from typing import Any

from backend.graphs.models import PromptVersion

from .models import Release

IGNORED_NODE_KEYS = frozenset({"position"})


def _nodes(release: Release | None) -> dict[str, dict[str, Any]]:
    spec = release.version.spec if release is not None else {}
    return {n["id"]: n for n in spec.get("nodes", []) if isinstance(n, dict) and isinstance(n.get("id"), str)}


def _flat(value: Any, path: str) -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, sub in value.items():
            out.update(_flat(sub, f"{path}.{key}" if path else str(key)))
        return out
    return {path: value}


def _step(node: dict[str, Any]) -> dict[str, Any]:
    return {"id": node["id"], "type": node.get("type"), "name": (node.get("config") or {}).get("label") or node["id"]}


def step_changes(before: Release | None, after: Release) -> dict[str, Any]:
    old, new = _nodes(before), _nodes(after)
    changed = []
    for node_id in sorted(old.keys() & new.keys()):
        a = _flat({k: v for k, v in old[node_id].items() if k not in IGNORED_NODE_KEYS}, "")
        b = _flat({k: v for k, v in new[node_id].items() if k not in IGNORED_NODE_KEYS}, "")
        fields = [{"path": path, "before": a.get(path), "after": b.get(path)}
                  for path in sorted(a.keys() | b.keys()) if a.get(path) != b.get(path)]
        if fields:
            changed.append({**_step(new[node_id]), "fields": fields})
    edges = [_edges(before), _edges(after)]
    return {"added": [_step(new[i]) for i in sorted(new.keys() - old.keys())],
            "removed": [_step(old[i]) for i in sorted(old.keys() - new.keys())],
            "changed": changed,
            "wiring": {"added": sorted(edges[1] - edges[0]), "removed": sorted(edges[0] - edges[1])}}


def _edges(release: Release | None) -> set[str]:
    spec = release.version.spec if release is not None else {}
    return {f"{e.get('from')}{'.' + e['port'] if e.get('port') else ''} → {e.get('to')}"
            for e in spec.get("edges", []) if isinstance(e, dict)}


def _prompt_text(workspace_id: int, pinned: str | None) -> str | None:
    if not pinned:
        return None
    name, _, number = pinned.rpartition("@")
    version = PromptVersion.objects.filter(prompt__workspace_id=workspace_id, prompt__name=name,
                                           number=int(number)).first() if number.isdigit() else None
    if version is None:
        return None
    return (f"[system]\n{version.system}\n[user]\n{version.template}" if version.system else version.template)


def line_diff(before: str, after: str) -> list[dict[str, str]]:
    """Line by line: ``op`` is " " (kept), "-" (removed) or "+" (added)."""
    lines = []
    for line in difflib.ndiff(before.splitlines(), after.splitlines()):
        if line[:1] in (" ", "-", "+"):
            lines.append({"op": line[0], "text": line[2:]})
    return lines


def prompt_changes(before: Release | None, after: Release) -> list[dict[str, Any]]:
    old = before.prompts if before is not None else {}
    changes = []
    for ref in sorted(old.keys() | after.prompts.keys()):
        a, b = old.get(ref), after.prompts.get(ref)
        if a == b:
            continue
        text_a, text_b = _prompt_text(after.graph.workspace_id, a), _prompt_text(after.graph.workspace_id, b)
        changes.append({"ref": ref, "before": a, "after": b,
                        "lines": line_diff(text_a or "", text_b or "")})
    return changes


def model_changes(before: Release | None, after: Release) -> list[dict[str, Any]]:
    old = before.model_settings if before is not None else {}
    changes = []
    for alias in sorted(old.keys() | after.model_settings.keys()):
        a, b = old.get(alias), after.model_settings.get(alias)
        if alias not in old:
            changes.append({"alias": alias, "change": "added", "before": None, "after": b, "fields": []})
        elif alias not in after.model_settings:
            changes.append({"alias": alias, "change": "removed", "before": a, "after": None, "fields": []})
        elif a != b:
            fa, fb = _flat(a or {}, ""), _flat(b or {}, "")
            fields = [{"path": p, "before": fa.get(p), "after": fb.get(p)} for p in sorted(fa.keys() | fb.keys())
                      if fa.get(p) != fb.get(p)]
            changes.append({"alias": alias, "change": "changed", "before": a, "after": b, "fields": fields})
    return changes


def summary(steps: dict[str, Any], prompts: list[dict[str, Any]], models: list[dict[str, Any]]) -> list[str]:
    """The changes in plain words, one sentence each, for people who do not read JSON."""
    words = [f"Step '{s['name']}' is added." for s in steps["added"]]
    words += [f"Step '{s['name']}' is removed." for s in steps["removed"]]
    words += [f"Step '{s['name']}' changes: {', '.join(f['path'] for f in s['fields'])}." for s in steps["changed"]]
    if steps["wiring"]["added"] or steps["wiring"]["removed"]:
        words.append(f"Connections change: {len(steps['wiring']['added'])} added, "
                     f"{len(steps['wiring']['removed'])} removed.")
    for p in prompts:
        words.append(f"Prompt {p['ref']} changes from {p['before'] or 'nothing'} to {p['after'] or 'nothing'}.")
    for m in models:
        model = (m["after"] or m["before"] or {}).get("model", "an unknown model")
        if m["change"] == "changed":
            fields = ", ".join(f"{f['path']} {f['before']} → {f['after']}" for f in m["fields"])
            words.append(f"Model '{m['alias']}' settings differ: {fields}.")
        else:
            words.append(f"Model '{m['alias']}' ({model}) is {'now used' if m['change'] == 'added' else 'no longer used'}.")
    return words or ["Nothing changes: both releases run the same steps, prompts and models."]


def release_changes(before: Release | None, after: Release) -> dict[str, Any]:
    steps, prompts, models = step_changes(before, after), prompt_changes(before, after), model_changes(before, after)
    return {"from": _brief(before), "to": _brief(after), "steps": steps, "prompts": prompts, "models": models,
            "summary": summary(steps, prompts, models)}


def _brief(release: Release | None) -> dict[str, Any] | None:
    if release is None:
        return None
    return {"id": release.pk, "number": release.number, "version": release.version.number}
