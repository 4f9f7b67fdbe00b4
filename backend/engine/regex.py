"""User-supplied patterns (gate checks, router rules) run on RE2: linear time, no backtracking.

Python's ``re`` backtracks: ``^(a+)+$`` on ``'a' * 40 + '!'`` runs for minutes,
on the loop every run in the worker shares. RE2 answers it in microseconds and
refuses what it cannot do in linear time (backreferences, lookaround), which
validation reports with the config path.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

# RE2 compiles into a bounded memory budget; a pattern that needs more is refused, not run.
MAX_PATTERN_MEMORY = 8 << 20


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str, ignore_case: bool = False) -> Any:
    """A compiled RE2 pattern; raises ``re2.error`` for syntax RE2 refuses."""
    options = re2.Options()
    options.case_sensitive = not ignore_case
    options.log_errors = False  # the message goes into a validation problem, not the worker's stderr
    options.max_mem = MAX_PATTERN_MEMORY
    return re2.compile(pattern, options)


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be used (one line), or None when RE2 accepts it."""
    try:
        compile_pattern(pattern)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        hint = ""
        if any(s in pattern for s in ("(?=", "(?!", "(?<=", "(?<!", "(?P=")) or _has_backreference(pattern):
            hint = " (lookaround and backreferences are not supported: patterns run in linear time)"
        return f"not a valid pattern: {detail}{hint}"
    return None


def search(pattern: str, text: str, *, ignore_case: bool = False) -> bool:
    return compile_pattern(pattern, ignore_case).search(text) is not None


def _has_backreference(pattern: str) -> bool:
    return any(pattern[i] == "\\" and pattern[i + 1:i + 2].isdigit() and pattern[i + 1] != "0"
               for i in range(len(pattern) - 1))
