"""Demo models: deterministic answers computed from the prompt, for offline use.

They are not language models. They do just enough that every pattern shows
its behaviour without a provider key: a classifier prompt gets the label whose
keywords appear in the text, a structured-output request gets JSON that fits
the schema and is filled from the text, anything else gets a short digest of
the text. The same prompt always gets the same answer.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

# Words that point to common labels, so a demo router routes by content.
LABEL_HINTS: dict[str, tuple[str, ...]] = {
    "billing": ("bill", "charge", "invoice", "refund", "payment", "paid", "price", "subscription", "card"),
    "technical": ("error", "bug", "crash", "login", "password", "install", "broken", "not working", "api"),
    "complaint": ("angry", "terrible", "unacceptable", "worst", "disappointed", "complain", "awful", "rude"),
    "unsafe": ("kill", "bomb", "weapon", "hack", "steal", "attack", "poison"),
    "safe": ("hello", "thanks", "please", "question", "help"),
    "research": ("research", "compare", "analy", "report", "market", "investigate"),
    "high_stakes": ("legal", "lawsuit", "medical", "contract", "compliance", "urgent"),
    "qa": ("what", "how", "when", "where", "who", "?"),
    "positive": ("great", "love", "excellent", "happy", "good"),
    "negative": ("bad", "hate", "poor", "terrible", "sad"),
}

_LABEL_LIST = re.compile(r"(?:labels?|categories|one of|choose from|options)\s*[:\-]\s*(.+)", re.I)
_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")
_MONEY = re.compile(r"(?:total|amount|due|price|sum)\D{0,20}?(\d+(?:[.,]\d+)?)", re.I)
_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}|\d{1,2} [A-Z][a-z]+ \d{4})\b")
_NAME = re.compile(r"\b([A-Z][a-z]+(?: [A-Z][a-z]+)+)\b")


def source_text(prompt: str) -> str:
    """The part of a prompt that is data rather than instruction (after the last "Label:" line)."""
    parts = re.split(r"\n\s*\n|:\s*\n", prompt)
    return parts[-1].strip() if len(parts) > 1 else prompt.strip()


def classify(text: str, labels: list[str], seed: int | None = None) -> tuple[str, float]:
    """The label whose name or hint words occur most in the text; ties go to the first listed.

    With a ``seed`` (one per vote sample) a close call sometimes goes to the
    runner-up, as sampling a real model would, so a vote shows real agreement rates.
    """
    lowered = text.lower()
    scores = [(sum(lowered.count(w) for w in (label.lower().replace("_", " "), *LABEL_HINTS.get(label.lower(), ()))),
               -i, label) for i, label in enumerate(labels)]
    if not scores:
        return "unknown", 0.3
    ranked = sorted(scores, reverse=True)
    best_score, _, best = ranked[0]
    if seed is not None and len(ranked) > 1 and ranked[1][0] >= best_score - 1 and (seed * 7 + len(text)) % 5 == 0:
        best_score, _, best = ranked[1]
    confidence = 0.55 + min(best_score, 4) * 0.1 if best_score else 0.3
    return best, round(confidence, 2)


def digest(text: str, words: int = 24) -> str:
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    first = " ".join(sentences[:2])
    tokens = first.split()
    return " ".join(tokens[:words]) + ("…" if len(tokens) > words else "")


def items_in(text: str) -> list[str]:
    """Short phrases of a text: list lines, or comma/sentence separated parts."""
    lines = [re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", ln).strip() for ln in text.splitlines()]
    parts = [ln for ln in lines if ln]
    if len(parts) <= 1:
        parts = [p.strip(" .") for p in re.split(r"[,;]|\band\b|(?<=[.!?])\s+", text) if p.strip(" .")]
    return parts[:8]


def fill_schema(schema: Mapping[str, Any], text: str, name: str = "", seed: int | None = None) -> Any:
    """A value valid against ``schema``, drawn from the text where the schema leaves room."""
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return classify(text, [str(v) for v in schema["enum"]], seed)[0] if text else schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return fill_schema(schema[key][0], text, name, seed)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    lname = name.lower()
    if kind == "object" or "properties" in schema:
        props: Mapping[str, Any] = schema.get("properties", {})
        result = {key: fill_schema(sub, text, key, seed) for key, sub in props.items()}
        label_keys = [k for k, s in props.items() if "enum" in s]
        if "confidence" in result and label_keys:
            enum = [str(v) for v in props[label_keys[0]]["enum"]]
            result["confidence"] = classify(text, enum, seed)[1]
        return result
    if kind == "array":
        item_schema = schema.get("items", {"type": "string"})
        values = [fill_schema(item_schema, part, name) for part in items_in(text)] if text else []
        low, high = schema.get("minItems", 0), schema.get("maxItems")
        while len(values) < low:
            values.append(fill_schema(item_schema, text, name))
        return values[:high] if high is not None else values
    if kind in ("number", "integer"):
        if "confidence" in lname or "score" in lname:
            return 0.8 if kind == "number" else 8
        match = None
        if any(word in lname for word in ("amount", "total", "price", "cost", "sum")):
            match = _MONEY.search(text)
        match = match or _NUMBER.search(text)
        number = match.group(match.lastindex or 0) if match else None
        value = float(number.replace(",", ".")) if number else schema.get("minimum", 0)
        if "maximum" in schema:
            value = min(value, schema["maximum"])
        if "minimum" in schema:
            value = max(value, schema["minimum"])
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return bool(text.strip())
    if kind == "null":
        return None
    # strings: pick by what the field is called
    if "date" in lname:
        match = _DATE.search(text)
        return match.group() if match else ""
    if "name" in lname:
        match = _NAME.search(text)
        return match.group() if match else digest(text, 3)
    return digest(text, 40 if "summary" in lname else 16)


_MUST_MENTION = re.compile(r"must mention\s*:\s*(.+)", re.I)
_FEEDBACK = re.compile(r"feedback\s*:\s*\n?(.+?)(?:\n\s*\n|$)", re.I | re.S)


def _terms(line: str) -> list[str]:
    return [t.strip(" .") for t in line.split(",") if t.strip(" .")]


def judge(prompt: str, text: str) -> dict[str, Any]:
    """An evaluator: the draft passes when it mentions every term the prompt requires."""
    required = _MUST_MENTION.search(prompt)
    terms = _terms(required.group(1).splitlines()[0]) if required else []
    missing = [t for t in terms if t.lower()[:5] not in text.lower()]
    if not text.strip():
        return {"pass": False, "feedback": "The draft is empty."}
    if missing:
        return {"pass": False, "feedback": f"Mention: {', '.join(missing)}."}
    return {"pass": True, "feedback": "Looks good" + (f": it mentions {', '.join(terms)}." if terms else ".")}


def demo_answer(messages: list[Mapping[str, Any]], response_schema: Mapping[str, Any] | None = None,
                seed: int | None = None) -> str:
    user = next((str(m.get("content", "")) for m in reversed(messages) if m.get("role") == "user"), "")
    text = source_text(user)
    if response_schema is not None:
        props = response_schema.get("properties", {})
        if props.get("pass", {}).get("type") == "boolean":
            return json.dumps(judge(user, text))
        return json.dumps(fill_schema(response_schema, text, seed=seed), ensure_ascii=False)
    labels = _LABEL_LIST.search(user)
    if labels:
        options = [o.strip(" .'\"`") for o in re.split(r",|\bor\b|\|", labels.group(1)) if o.strip(" .'\"`")]
        if options:
            return classify(text, options, seed)[0]
    if not text:
        return "(nothing to work with)"
    feedback = _FEEDBACK.search(user)
    if feedback and feedback.group(1).strip().lower().startswith("mention:"):
        # A revision: a real model would work the feedback in; the demo says it did.
        terms = _terms(feedback.group(1).strip()[len("mention:"):])
        return f"{digest(text)} We also cover: {', '.join(terms)}."
    return digest(text)
