"""Who may do what in a workspace: the one place the rule lives.

Three roles, each including the one below it:

- ``viewer`` reads everything in the workspace (graphs, prompts, runs, endpoints, keys' metadata, members);
- ``editor`` also changes graphs and prompts, starts, cancels and labels runs, and moves prompt labels other than
  ``production`` (``staging`` and any label of their own);
- ``admin`` also moves ``production`` (live endpoints run it), publishes, rolls back and unpublishes
  endpoints, manages API keys, members, the retention policy and the monthly spend cap.

Model aliases are shared by every workspace of the deployment, so changing them is for staff users
(``is_staff``), whatever their workspace role; the check still goes through :func:`require`.

Reads are scoped in the selectors (``workspace__membership__user=user``): someone outside a workspace gets a
404 from them and never reaches a ``require`` call. Every write calls :func:`require` (services that take the
acting user do it themselves; views do it for writes without a service). ``tests/authz/test_matrix.py``
walks the URL conf and checks every route against this table.
"""
from __future__ import annotations

import enum
from typing import Any

from rest_framework.exceptions import PermissionDenied

from .models import Membership, Workspace

Role = Membership.Role

# Ordered weakest first: a role may do everything the roles before it may.
ROLE_ORDER: tuple[str, ...] = (Role.VIEWER, Role.EDITOR, Role.ADMIN)

# Labels whose move changes what live endpoints run.
PROTECTED_LABELS = frozenset({"production"})

STAFF = "staff"  # not a workspace role: a deployment-wide permission (User.is_staff)


class Action(enum.StrEnum):
    READ = "read the workspace"
    GRAPH_CHANGE = "change graphs"
    PROMPT_CHANGE = "change prompts"
    LABEL_MOVE = "move prompt labels"
    PRODUCTION_LABEL_MOVE = "move a prompt's production label"
    RUN_START = "start runs"
    RUN_CANCEL = "cancel runs"
    RUN_LABEL = "label runs"
    ENDPOINT_MANAGE = "publish, roll back or unpublish endpoints"
    API_KEY_MANAGE = "manage API keys"
    MEMBERS_MANAGE = "manage members"
    RETENTION_CHANGE = "change how long runs are kept"
    SPEND_CAP_CHANGE = "change the workspace's monthly spend cap"
    MODEL_ALIAS_CHANGE = "change model aliases"
    AUDIT_READ = "read the audit log"
    DATASET_CHANGE = "change datasets and eval settings"
    DEPLOYMENT_AUDIT_READ = "read the deployment's audit log"
    APPROVAL_DECIDE = "decide approval steps"


MINIMUM_ROLE: dict[Action, str] = {
    Action.READ: Role.VIEWER,
    Action.GRAPH_CHANGE: Role.EDITOR,
    Action.PROMPT_CHANGE: Role.EDITOR,
    Action.LABEL_MOVE: Role.EDITOR,
    Action.PRODUCTION_LABEL_MOVE: Role.ADMIN,
    Action.RUN_START: Role.EDITOR,
    Action.RUN_CANCEL: Role.EDITOR,
    Action.RUN_LABEL: Role.EDITOR,
    Action.ENDPOINT_MANAGE: Role.ADMIN,
    Action.API_KEY_MANAGE: Role.ADMIN,
    Action.MEMBERS_MANAGE: Role.ADMIN,
    Action.RETENTION_CHANGE: Role.ADMIN,
    Action.SPEND_CAP_CHANGE: Role.ADMIN,
    Action.MODEL_ALIAS_CHANGE: STAFF,
    Action.AUDIT_READ: Role.ADMIN,
    Action.DATASET_CHANGE: Role.EDITOR,
    Action.DEPLOYMENT_AUDIT_READ: STAFF,
    # The least an approval step may ask for; the step itself may ask for more (a higher role or named members).
    Action.APPROVAL_DECIDE: Role.EDITOR,
}


def role_of(user: Any, workspace: Workspace | int) -> str | None:
    """The user's role in the workspace, or None for someone outside it (or signed out)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    return Membership.objects.filter(user=user, workspace_id=workspace_id).values_list("role", flat=True).first()


def role_allows(role: str | None, minimum: str) -> bool:
    return role in ROLE_ORDER and ROLE_ORDER.index(role) >= ROLE_ORDER.index(minimum)


def label_action(label: str) -> Action:
    return Action.PRODUCTION_LABEL_MOVE if label in PROTECTED_LABELS else Action.LABEL_MOVE


def can(user: Any, workspace: Workspace | int | None, action: Action) -> bool:
    minimum = MINIMUM_ROLE[action]
    if minimum == STAFF:
        return bool(user is not None and getattr(user, "is_staff", False) and user.is_active)
    if workspace is None:
        return False
    return role_allows(role_of(user, workspace), minimum)


def require(user: Any, workspace: Workspace | int | None, action: Action) -> None:
    """Raise a 403 (DRF ``PermissionDenied``) naming the role needed, unless the user may do ``action``."""
    if can(user, workspace, action):
        return
    minimum = MINIMUM_ROLE[action]
    if minimum == STAFF:
        raise PermissionDenied(f"Only staff can {action.value}: they are shared by every workspace of this "
                               "deployment.")
    role = role_of(user, workspace) if workspace is not None else None
    name = workspace.name if isinstance(workspace, Workspace) else f"workspace {workspace}"
    yours = f"you are {'an' if role[:1] in 'aeiou' else 'a'} {role}" if role else "you are not a member"
    raise PermissionDenied(f"To {action.value} you need the {minimum} role (or higher) in '{name}'; {yours}. "
                           "Ask an admin of the workspace.")


def may_decide(user: Any, workspace: Workspace | int, deciders: dict[str, Any]) -> bool:
    """Whether ``user`` may decide an approval step that names ``deciders`` ({"role", "members"}).

    Named members (usernames or emails) decide alone when the step names any; otherwise anyone with the
    step's role or higher. Either way at least an editor: a viewer reads, never decides.
    """
    if not can(user, workspace, Action.APPROVAL_DECIDE):
        return False
    members = [str(m).strip().lower() for m in deciders.get("members") or [] if str(m).strip()]
    if members:
        return user.get_username().lower() in members or (user.email or "").lower() in members
    return role_allows(role_of(user, workspace), str(deciders.get("role") or Role.EDITOR))


def require_decider(user: Any, workspace: Workspace | int, deciders: dict[str, Any]) -> None:
    """Raise a 403 naming who may decide, unless ``user`` may (see :func:`may_decide`)."""
    if may_decide(user, workspace, deciders):
        return
    members = ", ".join(str(m) for m in deciders.get("members") or [])
    who = f"only {members}" if members else f"the {deciders.get('role') or Role.EDITOR} role (or higher)"
    raise PermissionDenied(f"To {Action.APPROVAL_DECIDE.value} here you need {who}. Ask an admin of the workspace.")
