"""Writes to the audit log: ``audit_record``, called by every service that performs an audited change.

Call it inside the change's own transaction, after the change (so a refusal before it records nothing,
and an error after it rolls both back). It refuses to run outside a transaction, so an entry can never be
committed apart from its change. Secrets never enter the log: callers pass descriptions built by
``backend.audit.describe`` (no key material), and any field named like a secret is redacted here as well.

Member management records its changes with one call each, in the same transaction, after the change
(``describe`` builds the target and states; take the target before deleting a membership)::

    before = describe.member_state(membership)            # {"role": "editor"}
    membership.role = new_role; membership.save()
    audit_record(actor=user, workspace=workspace, action="member.role_changed",
                 target=describe.member_target(membership), before=before, after=describe.member_state(membership))

``member.added``: before=None, after=member_state; ``member.removed``: before=member_state, after=None.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from .context import current_request_id
from .models import AuditEntry

REDACTED = "[redacted]"
# Field names that carry key material anywhere in before/after (nested too): never stored.
SECRET_FIELDS = frozenset({"api_key", "api_key_encrypted", "secret", "secret_hash", "signing_secret",
                           "key", "password", "token"})
ACTIONS = frozenset(AuditEntry.Action.values)


@dataclass(frozen=True)
class Target:
    """What a change was made to: a type ("endpoint", "api_key", "prompt", "model", "workspace", "member"),
    its id, and a display name as it was at the time."""

    type: str
    id: Any
    name: str = ""


def _redacted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (REDACTED if str(k).lower() in SECRET_FIELDS else _redacted(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(v) for v in value]
    return value


def audit_record(*, actor: Any, workspace: Any, action: str, target: Target | tuple[str, Any, str],
                 before: dict[str, Any] | None, after: dict[str, Any] | None) -> AuditEntry:
    """Append one entry: who (``actor``, a user or None for the system), where (``workspace``, or None for a
    deployment-wide change), what (``action``, one of ``AuditEntry.Action``), to what (``target``), from
    ``before`` to ``after`` (JSON-able dicts; None for "did not exist" / "no longer exists")."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; add it to AuditEntry.Action")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    kind, target_id, name = (target.type, target.id, target.name) if isinstance(target, Target) else target
    signed_in = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEntry.objects.create(
        workspace=workspace, action=action,
        actor_user_id=actor.pk if signed_in else None,
        actor_username=actor.get_username() if signed_in else "",
        target_type=kind, target_id=str(target_id), target_name=str(name or "")[:300],
        before=_redacted(before), after=_redacted(after), request_id=current_request_id())


def audit_if_changed(*, actor: Any, workspace: Any, action: str, target: Target | tuple[str, Any, str],
                     before: dict[str, Any] | None, after: dict[str, Any] | None) -> AuditEntry | None:
    """``audit_record`` unless nothing changed (a no-op save is not an event worth an admin's attention)."""
    if before == after:
        return None
    return audit_record(actor=actor, workspace=workspace, action=action, target=target, before=before, after=after)
