"""Reads, scoped to the user's workspaces (someone outside gets a 404, never a 403 that confirms existence)."""
from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Count, QuerySet
from django.http import Http404

from .models import Dataset, EvalItem, EvalRun, Score


def datasets_visible(user: Any) -> QuerySet[Dataset]:
    return Dataset.objects.filter(workspace__membership__user=user).annotate(item_count=Count("items"))


def dataset_get(user: Any, dataset_id: Any) -> Dataset:
    dataset = datasets_visible(user).filter(pk=dataset_id).first()
    if dataset is None:
        raise Http404("No such dataset in your workspaces")
    return dataset


def eval_runs_visible(user: Any) -> QuerySet[EvalRun]:
    return EvalRun.objects.filter(workspace__membership__user=user).select_related("dataset", "graph",
                                                                                    "graph_version")


def _eval_run_id(value: Any) -> uuid.UUID | None:
    """The id as a UUID, or None for anything else (a 404 like any unknown id; a database error stays one)."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def eval_run_get(user: Any, eval_run_id: Any) -> EvalRun:
    key = _eval_run_id(eval_run_id)
    found = eval_runs_visible(user).filter(pk=key).first() if key is not None else None
    if found is None:
        raise Http404("No such eval run in your workspaces")
    return found


def eval_run_visible(user: Any, eval_run_id: Any) -> bool:
    key = _eval_run_id(eval_run_id)
    return key is not None and eval_runs_visible(user).filter(pk=key).exists()


def eval_items(eval_run: EvalRun) -> list[dict[str, Any]]:
    """Per item: input, expected, output, status, each score, cost, latency, and the run (its trace)."""
    scores: dict[Any, dict[str, dict[str, Any]]] = {}
    for s in Score.objects.filter(eval_run=eval_run):
        scores.setdefault(s.run_id, {})[s.name] = {"value": s.value, "passed": s.passed, "comment": s.comment,
                                                   "data_type": s.data_type, "cost_usd": s.cost_usd}
    rows = []
    for item in EvalItem.objects.filter(eval_run=eval_run).select_related("run", "item"):
        rows.append({"position": item.position, "item": item.item_id, "run": str(item.run_id),
                     "status": item.run.status, "input": item.run.input, "output": item.run.output,
                     "expected": item.item.expected if item.item else None, "error": item.run.error,
                     "scored": item.scored, "passed": item.passed, "cost_usd": item.cost_usd,
                     "latency_ms": item.latency_ms, "scores": scores.get(item.run_id, {}),
                     "trace": f"/graphs/{eval_run.graph_id}/runs/{item.run_id}"})
    return rows


def _item_value(row: dict[str, Any]) -> float | None:
    values = [s["value"] for s in row["scores"].values()]
    return sum(values) / len(values) if values else None


def _delta(a: Any, b: Any) -> dict[str, Any]:
    return {"a": a, "b": b, "delta": None if a is None or b is None else round(b - a, 10)}


def eval_compare(a: EvalRun, b: EvalRun) -> dict[str, Any]:
    """B against A, item by item (matched by dataset item): B wins an item when its mean score is higher."""
    rows_a = {row["item"]: row for row in eval_items(a)}
    items, tally = [], {"wins": 0, "losses": 0, "ties": 0, "unmatched": 0}
    for row_b in eval_items(b):
        row_a = rows_a.get(row_b["item"])
        if row_a is None or row_b["item"] is None:
            tally["unmatched"] += 1
            continue
        va, vb = _item_value(row_a), _item_value(row_b)
        outcome = "tie" if va is None or vb is None or abs(vb - va) < 1e-9 else ("win" if vb > va else "loss")
        tally[{"win": "wins", "loss": "losses", "tie": "ties"}[outcome]] += 1
        items.append({"item": row_b["item"], "input": row_b["input"], "expected": row_b["expected"],
                      "outcome": outcome, "a": row_a, "b": row_b,
                      "cost_usd": _delta(row_a["cost_usd"], row_b["cost_usd"]),
                      "latency_ms": _delta(row_a["latency_ms"], row_b["latency_ms"])})
    sa, sb = a.summary or {}, b.summary or {}
    names = sorted(set(sa.get("scorers", {})) | set(sb.get("scorers", {})))
    return {
        "a": str(a.pk), "b": str(b.pk), **tally, "items": items,
        "pass_rate": _delta((sa.get("pass_rate") or {}).get("value"), (sb.get("pass_rate") or {}).get("value")),
        "scorers": {n: _delta((sa.get("scorers", {}).get(n) or {}).get("mean"),
                              (sb.get("scorers", {}).get(n) or {}).get("mean")) for n in names},
        "cost_usd": _delta((sa.get("cost_usd") or {}).get("total"), (sb.get("cost_usd") or {}).get("total")),
        "latency_p50_ms": _delta((sa.get("latency_ms") or {}).get("p50"), (sb.get("latency_ms") or {}).get("p50")),
        "latency_p95_ms": _delta((sa.get("latency_ms") or {}).get("p95"), (sb.get("latency_ms") or {}).get("p95")),
    }
