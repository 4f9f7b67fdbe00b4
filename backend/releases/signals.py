"""``label_moved``: a release label now points at another release (endpoints following it serve that)."""
from __future__ import annotations

from django.dispatch import Signal

# sent inside the move's transaction with graph=, label=, release=
label_moved = Signal()
