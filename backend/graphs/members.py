"""Workspace members: list, invite, change a role, remove. Admins manage; every member reads.

Invites are for people who already have an account: the admin names them by username or email and they
are members at once (no pending invitations, no email sent; a deployment without sign-up creates accounts
in the Django admin first). A workspace always keeps at least one admin: the last admin cannot be demoted
or removed, whoever asks.

Every change of a membership's role (none → role, role → role, role → none) goes through
``_role_changed``, the one place an audit log hooks in.
"""
from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404

from backend.audit.services import Target, audit_record
from backend.config.errors import InvalidRequest

from .authz import Action, require
from .models import Membership, Workspace

ROLES = tuple(Membership.Role.values)


def members_of(workspace: Workspace) -> QuerySet[Membership]:
    return Membership.objects.filter(workspace=workspace).select_related("user").order_by("user__username")


def membership_get(workspace: Workspace, user_id: Any) -> Membership:
    membership = members_of(workspace).filter(user_id=user_id).first()
    if membership is None:
        raise Http404("No such member of this workspace")
    return membership


def _check_role(role: Any) -> str:
    if role not in ROLES:
        raise InvalidRequest("Unknown role.", [{"path": "role", "message": f"must be one of: {', '.join(ROLES)}"}])
    return role


def _keep_an_admin(membership: Membership, new_role: str | None) -> None:
    """Refuse to leave the workspace without an admin (the rows are locked, so two admins demoting each
    other at once cannot both succeed)."""
    if membership.role != Membership.Role.ADMIN or new_role == Membership.Role.ADMIN:
        return
    admins = list(Membership.objects.select_for_update().filter(workspace_id=membership.workspace_id,
                                                                role=Membership.Role.ADMIN).values_list("pk", flat=True))
    if admins == [membership.pk]:
        message = f"{membership.user.get_username()} is the last admin of this workspace; make someone else admin first"
        raise InvalidRequest(f"A workspace needs an admin: {message}.", [
            {"path": "role" if new_role else "", "message": message}], code="last_admin")


def _role_changed(*, actor: Any, workspace: Workspace, user: Any, before: str | None, after: str | None) -> None:
    """Called after every membership change, inside its transaction: the audit log records it."""
    action = "member.added" if before is None else "member.removed" if after is None else "member.role_changed"
    audit_record(actor=actor, workspace=workspace, action=action,
                 target=Target("member", user.pk, user.get_username()),
                 before=None if before is None else {"role": before}, after=None if after is None else {"role": after})


@transaction.atomic
def member_invite(*, actor: Any, workspace: Workspace, who: str, role: str) -> Membership:
    """Add an existing account (by username or email) to the workspace with a role."""
    require(actor, workspace, Action.MEMBERS_MANAGE)
    role = _check_role(role)
    who = (who or "").strip()
    users = get_user_model().objects.filter(Q(username__iexact=who) | Q(email__iexact=who), is_active=True)
    matches = list(users[:2]) if who else []
    if len(matches) != 1:
        message = ("no account has this username or email; they need an account before they can be added" if not
                   matches else "more than one account has this email; use the username")
        raise InvalidRequest(f"Cannot add '{who}': {message}.", [{"path": "user", "message": message}],
                             code="unknown_user")
    user = matches[0]
    if Membership.objects.filter(workspace=workspace, user=user).exists():
        message = f"{user.get_username()} is already a member; change their role instead"
        raise InvalidRequest(f"{message[0].upper()}{message[1:]}.", [{"path": "user", "message": message}],
                             code="already_member")
    membership = Membership.objects.create(workspace=workspace, user=user, role=role)
    _role_changed(actor=actor, workspace=workspace, user=user, before=None, after=role)
    return membership


@transaction.atomic
def membership_change_role(*, actor: Any, membership: Membership, role: str) -> Membership:
    """Give a member another role; the last admin keeps theirs."""
    require(actor, membership.workspace, Action.MEMBERS_MANAGE)
    role = _check_role(role)
    before = membership.role
    if before == role:
        return membership
    _keep_an_admin(membership, role)
    membership.role = role
    membership.save(update_fields=["role"])
    _role_changed(actor=actor, workspace=membership.workspace, user=membership.user, before=before, after=role)
    return membership


@transaction.atomic
def member_remove(*, actor: Any, membership: Membership) -> None:
    """Take someone out of the workspace (their graphs, runs and keys stay with the workspace)."""
    require(actor, membership.workspace, Action.MEMBERS_MANAGE)
    _keep_an_admin(membership, None)
    before = membership.role
    membership.delete()
    _role_changed(actor=actor, workspace=membership.workspace, user=membership.user, before=before, after=None)
