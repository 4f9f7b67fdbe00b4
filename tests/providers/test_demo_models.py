"""Demo models answer deterministically from the prompt, so examples mean something offline."""
from __future__ import annotations

import json

import jsonschema

from backend.providers.demo import classify, demo_answer, fill_schema


def ask(text: str, schema: dict | None = None) -> str:
    return demo_answer([{"role": "user", "content": text}], schema)


def test_a_classifier_prompt_gets_the_label_matching_the_content() -> None:
    prompt = "Classify. Labels: billing, technical, complaint, other\n\nMessage:\n{}"
    assert ask(prompt.format("I was charged twice, refund please")) == "billing"
    assert ask(prompt.format("The app crashes with an error on login")) == "technical"
    assert ask(prompt.format("This is unacceptable, the worst service")) == "complaint"
    assert ask(prompt.format("What a day")) == "billing"  # no hint: the first label, deterministically


def test_structured_output_fits_the_schema_and_draws_on_the_text() -> None:
    schema = {"type": "object", "required": ["name", "amount", "date", "lines", "label", "confidence"],
              "properties": {"name": {"type": "string"}, "amount": {"type": "number"},
                             "date": {"type": "string"}, "lines": {"type": "array", "items": {"type": "string"},
                                                                   "minItems": 1},
                             "label": {"enum": ["billing", "technical"]}, "confidence": {"type": "number"}}}
    text = "Invoice from Acme Widgets, total 129.50 due 2026-12-01 for the billing period"
    value = json.loads(ask(f"Extract:\n{text}", schema))
    jsonschema.validate(value, schema)
    assert value["name"] == "Acme Widgets" and value["amount"] == 129.5 and value["date"] == "2026-12-01"
    assert value["label"] == "billing" and value["confidence"] > 0.5


def test_answers_are_deterministic() -> None:
    assert ask("Summarise:\nThe quick brown fox.") == ask("Summarise:\nThe quick brown fox.")


def test_empty_text_gives_empty_lists_so_gates_can_stop_early() -> None:
    schema = {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "string"}}}}
    assert fill_schema(schema, "") == {"items": []}
    assert classify("", ["a", "b"]) == ("a", 0.3)
