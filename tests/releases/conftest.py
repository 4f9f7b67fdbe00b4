"""The endpoints' fixtures (a published flow, keys, an HTTP client on the live stack), shared here."""
from __future__ import annotations

from ..endpoints.conftest import flow, http  # noqa: F401
