"""Graphs the insights tests run and craft histories for: every pattern step the dashboard reads."""
from __future__ import annotations

from typing import Any

PATTERNS: dict[str, Any] = {
    "schema": "patchbay.graph/v1", "name": "every pattern",
    "inputs": {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]},
    "nodes": [
        {"id": "input", "type": "input"},
        {"id": "check", "type": "gate", "config": {
            "check": {"kind": "compare", "value": "{{ input.message }}", "op": "not_empty"},
            "message": "Nothing to answer: the message is empty."}},
        {"id": "triage", "type": "router", "config": {
            "mode": "llm", "input": "{{ input.message }}", "threshold": 0.5,
            "classifier": {"model": "fast", "params": {"temperature": 0}},
            "routes": [{"label": "billing", "description": "charges, refunds"},
                       {"label": "technical", "description": "errors, crashes"}]}},
        {"id": "agree", "type": "vote", "config": {
            "samples": 3, "aggregate": "majority", "step": {
                "model": "fast", "params": {"temperature": 0.7},
                "prompt": "Should we refund? Labels: yes, no\n\nMessage:\n{{ input.message }}"}}},
        {"id": "polish", "type": "evaluator_optimizer", "config": {
            "max_iterations": 2,
            "generator": {"model": "fast", "prompt": "Write a fix.\n\nProblem:\n{{ input.message }}"},
            "evaluator": {"model": "judge", "params": {"temperature": 0},
                          "prompt": "Judge the reply. Must mention: restart\n\nReply:\n{{ draft }}"}}},
        {"id": "plan", "type": "orchestrator", "config": {
            "max_workers": 2,
            "planner": {"model": "fast", "params": {"temperature": 0},
                        "prompt": "Plan an answer in steps.\n\nMessage:\n{{ input.message }}"},
            "worker": {"model": "fast", "prompt": "Do: {{ task.title }}"},
            "synthesizer": {"model": "fast", "prompt": "Join: {% for r in results %}{{ r.output }} {% endfor %}"}}},
        {"id": "output", "type": "output", "config": {"value": "done"}},
    ],
    "edges": [
        {"from": "input", "to": "check"}, {"from": "check", "port": "pass", "to": "triage"},
        {"from": "triage", "port": "billing", "to": "agree"},
        {"from": "triage", "port": "technical", "to": "polish"},
        {"from": "triage", "port": "default", "to": "plan"},
        {"from": "agree", "to": "output"}, {"from": "polish", "to": "output"}, {"from": "plan", "to": "output"},
    ],
}
