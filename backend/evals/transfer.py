"""Dataset items to and from JSONL and CSV: pure. Reading returns every item or every problem, never half.

JSONL: one object a line, ``{"input": ..., "expected": ..., "labels": {...}}`` (``expected`` and ``labels``
optional). CSV: a header with ``input`` and optionally ``expected`` and ``labels``; each cell is JSON when it
reads as JSON and text otherwise (export writes JSON, so a round trip gives back the same values).
A problem's path names the line and the field: ``line 3.labels``.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

FORMATS = ("jsonl", "csv")
COLUMNS = ("input", "expected", "labels")
MAX_ITEMS = 10_000


@dataclass(frozen=True)
class ItemIn:
    input: Any
    expected: Any = None
    labels: Mapping[str, Any] = field(default_factory=dict)


def _item(row: Mapping[str, Any], line: int, problems: list[dict[str, str]]) -> ItemIn | None:
    before = len(problems)
    unknown = sorted(set(row) - set(COLUMNS) - {"source_run"})
    if unknown:
        problems.append({"path": f"line {line}.{unknown[0]}", "message": "unknown field; use input, expected, labels"})
    if "input" not in row or row["input"] is None or row["input"] == "":
        problems.append({"path": f"line {line}.input", "message": "every item needs an input"})
    labels = row.get("labels") or {}
    if not isinstance(labels, dict):
        problems.append({"path": f"line {line}.labels", "message": "labels must be an object, e.g. {\"route\": \"billing\"}"})
    if len(problems) > before:
        return None
    return ItemIn(row["input"], row.get("expected"), labels)


def _cell(text: str) -> Any:
    if text == "":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def read_items(text: str, fmt: str) -> tuple[list[ItemIn], list[dict[str, str]]]:
    if fmt not in FORMATS:
        return [], [{"path": "format", "message": "jsonl or csv"}]
    problems: list[dict[str, str]] = []
    items: list[ItemIn] = []
    if fmt == "jsonl":
        rows: Iterable[tuple[int, Any]] = ((n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip())
        for n, line in rows:
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append({"path": f"line {n}", "message": f"not JSON: {exc.msg} at column {exc.colno}"})
                continue
            if not isinstance(row, dict):
                problems.append({"path": f"line {n}", "message": "each line must be a JSON object"})
                continue
            item = _item(row, n, problems)
            if item is not None:
                items.append(item)
    else:
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or "input" not in reader.fieldnames:
            return [], [{"path": "line 1.input", "message": "the header must have an input column"}]
        for row in reader:
            n = reader.line_num
            if None in row:
                problems.append({"path": f"line {n}", "message": "more cells than the header has columns"})
                continue
            item = _item({k: _cell(v or "") for k, v in row.items() if k}, n, problems)
            if item is not None:
                items.append(item)
    if not items and not problems:
        problems.append({"path": "file", "message": "no items in the file"})
    if len(items) > MAX_ITEMS:
        problems.append({"path": "file", "message": f"at most {MAX_ITEMS} items per import"})
    return (items, []) if not problems else ([], problems)


def write_items(items: Iterable[Mapping[str, Any]], fmt: str) -> str:
    """Items (dicts with input, expected, labels, source_run) as JSONL or CSV text."""
    if fmt == "jsonl":
        return "".join(json.dumps(dict(item), ensure_ascii=False) + "\n" for item in items)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*COLUMNS, "source_run"])
    for item in items:
        writer.writerow([json.dumps(item.get(c), ensure_ascii=False) if item.get(c) is not None else ""
                         for c in COLUMNS] + [item.get("source_run") or ""])
    return out.getvalue()
