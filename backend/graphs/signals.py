"""``prompt_label_moved``: a prompt label points at another version (releases following it react)."""
from __future__ import annotations

from django.dispatch import Signal

# sent inside the move's transaction with prompt=, label=, before= (a PromptVersion or None), after=, user=
prompt_label_moved = Signal()
