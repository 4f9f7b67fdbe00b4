"""JSONL / CSV reading and writing (pure), and the gate's rule."""
from __future__ import annotations

from backend.evals.transfer import read_items, write_items
from backend.evals.verdict import gate_verdict

ITEMS = [{"input": {"text": "refund me"}, "expected": "billing", "labels": {"route": "billing"}, "source_run": None},
         {"input": "plain, with \"quotes\"\nand a newline", "expected": None, "labels": {}, "source_run": None},
         {"input": {"n": 42}, "expected": {"amount": 4.5}, "labels": {}, "source_run": None}]


def test_round_trips_in_both_formats() -> None:
    for fmt in ("jsonl", "csv"):
        items, problems = read_items(write_items(ITEMS, fmt), fmt)
        assert not problems
        assert [(i.input, i.expected, dict(i.labels)) for i in items] == [
            (i["input"], i["expected"], i["labels"]) for i in ITEMS]


def test_bad_rows_name_the_line_and_field_and_nothing_is_read() -> None:
    text = '{"input": "ok"}\n{"input": "x", "labels": [1]}\nnot json\n{"expected": 1}\n'
    items, problems = read_items(text, "jsonl")
    assert items == []
    assert [p["path"] for p in problems] == ["line 2.labels", "line 3", "line 4.input"]
    items, problems = read_items("input,labels\nhello,\n,{}\nhi,[2]\n", "csv")
    assert items == [] and [p["path"] for p in problems] == ["line 3.input", "line 4.labels"]
    assert read_items("question\nhi\n", "csv")[1][0]["path"] == "line 1.input"
    assert read_items("", "jsonl")[1][0]["path"] == "file"


def test_gate_verdict() -> None:
    base = {"pass_rate": {"value": 0.9}}
    assert gate_verdict(base, {"pass_rate": {"value": 0.86}}, 0.05).allowed
    refused = gate_verdict(base, {"pass_rate": {"value": 0.8}}, 0.05)
    assert not refused.allowed and refused.drop == 0.1 and "90.0% to 80.0%" in refused.reason
    assert gate_verdict(None, {"pass_rate": {"value": 0.1}}, 0.05).allowed  # no baseline yet
    assert not gate_verdict(base, None, 0.05).allowed  # no candidate numbers
    assert gate_verdict(None, None, 0.05).allowed  # the first release to production: nothing to compare with
    assert gate_verdict(base, {"pass_rate": {"value": 0.85}}, 0.05).allowed  # exactly the threshold
