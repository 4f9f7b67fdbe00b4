"""How much work one template render may do, and the guard that counts it.

Templates are user code running in the worker that every run shares. The
sandbox stops them reaching outside; these limits stop them eating the
worker: every operation that can repeat or grow (a loop step, a call, a
filter, an operator, a concatenation, each piece of output) passes through
``RenderGuard.tick`` or a size check *before* the expensive C call happens,
so no single step can run long, and the guard's deadline and cancel flag are
seen within microseconds.
"""
from __future__ import annotations

import re
import time
from typing import Any

# A rendered text (a prompt) or any string a template builds. Far above any model's context.
MAX_TEXT_CHARS = 1_000_000
# Items in a list a template builds (``[x] * n``, ``batch``, ``slice``).
MAX_ITEMS = 100_000
# Loop steps, calls, filters and operators in one render.
MAX_OPERATIONS = 2_000_000
# Bits of an integer a template may compute (``10 ** 10 ** 6`` is refused, ``2 ** 64`` is fine).
MAX_INT_BITS = 4096
# Width or precision inside a format spec (``'%10000000s'``, ``'{:>10000000}'``).
MAX_FORMAT_WIDTH = 10_000
# Text that ``wordwrap`` may wrap: textwrap is pure Python and never looks at the guard.
MAX_WRAP_CHARS = 200_000
# A render never runs longer than this, even in a run without max_seconds.
MAX_RENDER_SECONDS = 10.0
# How many operations pass between two looks at the clock and the cancel flag.
CHECK_EVERY = 256


class TemplateLimitError(Exception):
    """A template asked for more than a render may do."""


class RenderTimeout(Exception):
    """A render passed its deadline (``by_budget``: the run's max_seconds, else MAX_RENDER_SECONDS)."""

    def __init__(self, message: str, *, by_budget: bool):
        super().__init__(message)
        self.by_budget = by_budget


class RenderCancelled(Exception):
    """The run this render belongs to stopped; the render thread gives up at its next step."""


class CancelFlag:
    """Set once by the loop, read by the render thread at its checks. A plain attribute (an assignment and a
    read are atomic in Python): ``threading.Event`` builds a lock and a condition for every render, and nothing
    here ever waits on the flag."""

    __slots__ = ("_set",)

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set


class RenderGuard:
    """One render's counters, deadline and cancel flag. Cheap: an increment per operation."""

    def __init__(self, seconds: float | None = None, *, by_budget: bool = False):
        limit = MAX_RENDER_SECONDS if seconds is None else min(seconds, MAX_RENDER_SECONDS)
        self.by_budget = by_budget and seconds is not None and seconds <= MAX_RENDER_SECONDS
        self.seconds = limit
        self.deadline = time.monotonic() + limit
        self.operations = 0
        self.cancelled = CancelFlag()
        self._weights: dict[int, tuple[Any, int]] = {}

    def tick(self, n: int = 1) -> None:
        self.operations += n
        if self.operations > MAX_OPERATIONS:
            raise TemplateLimitError(f"the template did more than {MAX_OPERATIONS:,} loop steps and operations")
        if self.operations % CHECK_EVERY < n:
            self.check_time()

    def check_time(self) -> None:
        if self.cancelled.is_set():
            raise RenderCancelled("the run stopped")
        if time.monotonic() > self.deadline:
            if self.by_budget:
                raise RenderTimeout("the template was still rendering when the run's time budget ran out",
                                    by_budget=True)
            raise RenderTimeout(f"the template took longer than {self.seconds:g} s to render", by_budget=False)

    def weight(self, value: Any, limit: int = MAX_TEXT_CHARS) -> int:
        """About how many characters ``value`` prints as; stops counting once past ``limit``.

        Shared sub-objects count every time they appear (that is what printing does)
        but are measured once, so ``[a, a, a]`` costs three lookups, not three walks.
        """
        return _weight(value, limit, self._weights, self)

    def check_weight(self, value: Any, what: str) -> None:
        if self.weight(value) > MAX_TEXT_CHARS:
            raise TemplateLimitError(f"{what} would be longer than {MAX_TEXT_CHARS:,} characters")


def _weight(value: Any, limit: int, memo: dict[int, tuple[Any, int]], guard: RenderGuard) -> int:
    if isinstance(value, str):
        return len(value)
    if value is None or isinstance(value, (bool, float)):
        return 5
    if isinstance(value, int):
        return value.bit_length() // 3 + 1
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    if not isinstance(value, (list, tuple, dict, set, frozenset)):
        return 16  # an object the sandbox lets through prints as a short repr
    seen = memo.get(id(value))
    if seen is not None and seen[0] is value:
        return seen[1]
    total = 2
    items = value.items() if isinstance(value, dict) else value
    for item in items:
        guard.tick()
        total += 2 + _weight(item, limit - total, memo, guard)
        if total > limit:
            break
    memo[id(value)] = (value, total)  # keeps the object alive so its id is not reused meanwhile
    return total


_PRINTF_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
_DIGITS = re.compile(r"\d+")


def check_printf_format(fmt: str) -> None:
    """``'%*s'`` and ``'%0999999999d'``: refuse widths a prompt never needs."""
    for match in _PRINTF_SPEC.finditer(fmt):
        for part in match.groups():
            if part == "*":
                raise TemplateLimitError("a '*' width in a format string is not allowed; write the number")
            if part is not None and int(part) > MAX_FORMAT_WIDTH:
                raise TemplateLimitError(f"a format width of {part} is more than {MAX_FORMAT_WIDTH:,}")


def check_format_spec(spec: str) -> None:
    """The spec of one ``{...:spec}`` field, after nested fields were filled in."""
    for digits in _DIGITS.findall(spec):
        if len(digits) > 6 or int(digits) > MAX_FORMAT_WIDTH:
            raise TemplateLimitError(f"a format width of {digits} is more than {MAX_FORMAT_WIDTH:,}")


def check_count(n: Any, what: str, limit: int = MAX_TEXT_CHARS) -> None:
    if isinstance(n, int) and not isinstance(n, bool) and n > limit:
        raise TemplateLimitError(f"{what} of {n:,} is more than {limit:,}")
