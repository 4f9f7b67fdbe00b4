"""JSON that PostgreSQL can store: its JSON and text types refuse U+0000.

Input from users is refused with the path of the offending string (a 400 that
names the field); text from models is stored with U+0000 replaced by U+FFFD.

Both walk the value with an explicit stack, never by recursion: a value nested
deeper than Python's recursion limit is answered, not crashed on (how deep a
value may be is the validator's rule, engine.limits.MAX_JSON_DEPTH).
"""
from __future__ import annotations

from typing import Any

NUL = "\x00"
NUL_PROBLEM = "contains a NUL character (\\u0000), which cannot be stored"


def _child_path(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def nul_path(value: Any, path: str) -> str | None:
    """The path of the first string (or key) holding U+0000, in document order, or None."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                return where
        elif isinstance(item, dict):
            children = []
            for key, child in item.items():
                if NUL in str(key):
                    children.append((NUL, where))  # a key holding U+0000: reported at its object's path
                    break
                children.append((child, _child_path(where, key)))
            stack.extend(reversed(children))
        elif isinstance(item, list):
            stack.extend(reversed([(child, _child_path(where, i)) for i, child in enumerate(item)]))
    return None


def may_hold_nul(text: str) -> bool:
    """Whether JSON text (as ``json.dumps`` writes it) may hold U+0000: it escapes the character as ``\\u0000``
    in every string and key. Never False for a value that holds one; True also for a backslash followed by
    ``u0000`` (escaped ``\\\\u0000``). One search of text the caller writes anyway, instead of a walk of the value
    (``without_nul``) that finds nothing nearly always."""
    return "\\u0000" in text


def without_nul(value: Any) -> Any:
    """The same JSON value with every U+0000 replaced by U+FFFD (for text we must keep, e.g. model output)."""
    def clean(item: Any) -> Any:
        if isinstance(item, str):
            return item.replace(NUL, "\ufffd") if NUL in item else item
        if isinstance(item, dict):
            return {}
        if isinstance(item, list):
            return []
        return item

    root = clean(value)
    # Each pending entry: an original container and its (empty) copy, filled level by level.
    pending: list[tuple[Any, Any]] = [(value, root)] if isinstance(value, dict | list) else []
    while pending:
        original, copy = pending.pop()
        items = original.items() if isinstance(original, dict) else enumerate(original)
        for key, child in items:
            cleaned = clean(child)
            if isinstance(copy, dict):
                copy[clean(key)] = cleaned
            else:
                copy.append(cleaned)
            if isinstance(child, dict | list):
                pending.append((child, cleaned))
    return root
