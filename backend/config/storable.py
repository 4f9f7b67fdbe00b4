"""JSON that PostgreSQL can store: its JSON and text types refuse U+0000.

Input from users is refused with the path of the offending string (a 400 that
names the field); text from models is stored with U+0000 replaced by U+FFFD.
"""
from __future__ import annotations

from typing import Any

NUL = "\x00"
NUL_PROBLEM = "contains a NUL character (\\u0000), which cannot be stored"


def nul_path(value: Any, path: str) -> str | None:
    """The path of the first string (or key) holding U+0000, or None."""
    if isinstance(value, str):
        return path if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = path if NUL in str(key) else nul_path(item, f"{path}.{key}" if path else str(key))
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = nul_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def without_nul(value: Any) -> Any:
    """The same JSON value with every U+0000 replaced by U+FFFD (for text we must keep, e.g. model output)."""
    if isinstance(value, str):
        return value.replace(NUL, "\ufffd") if NUL in value else value
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    return value
