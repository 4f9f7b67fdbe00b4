"""Writes to the model registry: create an alias, flip its kill switch, change its fallbacks or key."""
from __future__ import annotations

from typing import Any

from django.db import transaction

from backend.audit import describe as audited
from backend.audit.services import audit_if_changed
from backend.config.errors import InvalidRequest

from .defaults import DEFAULT_ROUTES
from .models import ModelAlias


def _check_fallbacks(alias: str, fallbacks: list[str]) -> None:
    known = set(DEFAULT_ROUTES) | set(ModelAlias.objects.values_list("alias", flat=True))
    problems = []
    for i, name in enumerate(fallbacks):
        if name == alias:
            problems.append({"path": f"fallbacks[{i}]", "message": "an alias cannot fall back to itself"})
        elif name not in known:
            problems.append({"path": f"fallbacks[{i}]", "message": f"unknown model alias '{name}'"})
    if problems:
        raise InvalidRequest("The fallbacks have problems; nothing was changed.", problems)


@transaction.atomic
def model_alias_save(*, alias: str, data: dict[str, Any], user: Any = None) -> ModelAlias:
    """Create or update an alias. ``api_key`` is encrypted on the way in and never returned."""
    if "fallbacks" in data:
        _check_fallbacks(alias, data["fallbacks"])
    row = ModelAlias.objects.select_for_update().filter(alias=alias).first()
    before = audited.model_state(row) if row is not None else None
    if row is None:
        if "model" not in data:
            raise InvalidRequest("A new alias needs a model.", [{"path": "model", "message": "is required"}])
        row = ModelAlias(alias=alias)
    api_key = data.pop("api_key", None)
    for field, value in data.items():
        setattr(row, field, value)
    if api_key is not None:
        row.set_api_key(api_key)
        row.api_key_env = "" if api_key else row.api_key_env
    row.save()
    after = audited.model_state(row, new_key=bool(api_key))
    audit_if_changed(actor=user, workspace=None, action=audited.model_action(before, after),
                     target=audited.model_target(row), before=before, after=after)
    return row
