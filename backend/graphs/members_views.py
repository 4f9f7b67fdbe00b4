"""/api/workspaces/<id>/members/: every member reads the list; admins invite, change roles and remove."""
from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.config.api import ErrorOut

from .authz import Action, can, role_of
from .members import ROLES, member_invite, member_remove, members_of, membership_change_role, membership_get
from .models import Membership, Workspace
from .selectors import workspaces_of


class MemberOut(serializers.Serializer):
    user_id = serializers.IntegerField()
    username = serializers.CharField()
    role = serializers.ChoiceField(choices=ROLES)
    is_you = serializers.BooleanField()


class MembersOut(serializers.Serializer):
    workspace = serializers.IntegerField()
    your_role = serializers.ChoiceField(choices=ROLES)
    can_manage = serializers.BooleanField(help_text="whether you may invite, change roles and remove")
    roles = serializers.ListField(child=serializers.CharField())
    members = MemberOut(many=True)


class InviteIn(serializers.Serializer):
    user = serializers.CharField(max_length=254, help_text="username or email of an existing account")
    role = serializers.ChoiceField(choices=ROLES, default=Membership.Role.VIEWER)


class RoleIn(serializers.Serializer):
    role = serializers.ChoiceField(choices=ROLES)


def _workspace(request: Request, workspace_id: int) -> Workspace:
    workspace = workspaces_of(request.user).filter(pk=workspace_id).first()
    if workspace is None:
        raise Http404("No such workspace of yours")
    return workspace


def member_out(membership: Membership, viewer: Any) -> dict[str, Any]:
    return {"user_id": membership.user_id, "username": membership.user.get_username(), "role": membership.role,
            "is_you": membership.user_id == viewer.pk}


def members_out(request: Request, workspace: Workspace) -> dict[str, Any]:
    return {"workspace": workspace.pk, "your_role": role_of(request.user, workspace),
            "can_manage": can(request.user, workspace, Action.MEMBERS_MANAGE), "roles": list(ROLES),
            "members": [member_out(m, request.user) for m in members_of(workspace)]}


def _parse(serializer_class: type, request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class MemberListView(APIView):
    @extend_schema(operation_id="workspaces_members_list", responses={200: MembersOut, 404: ErrorOut})
    def get(self, request: Request, workspace_id: int) -> Response:
        return Response(members_out(request, _workspace(request, workspace_id)))

    @extend_schema(operation_id="workspaces_members_invite", request=InviteIn,
                   responses={201: MemberOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut})
    def post(self, request: Request, workspace_id: int) -> Response:
        workspace = _workspace(request, workspace_id)
        data = _parse(InviteIn, request)
        membership = member_invite(actor=request.user, workspace=workspace, who=data["user"], role=data["role"])
        return Response(member_out(membership, request.user), status=status.HTTP_201_CREATED)


class MemberDetailView(APIView):
    @extend_schema(operation_id="workspaces_members_change_role", request=RoleIn,
                   responses={200: MemberOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut})
    def patch(self, request: Request, workspace_id: int, user_id: int) -> Response:
        membership = membership_get(_workspace(request, workspace_id), user_id)
        data = _parse(RoleIn, request)
        membership = membership_change_role(actor=request.user, membership=membership, role=data["role"])
        return Response(member_out(membership, request.user))

    @extend_schema(operation_id="workspaces_members_remove", responses={204: None, 400: ErrorOut, 403: ErrorOut,
                                                                        404: ErrorOut})
    def delete(self, request: Request, workspace_id: int, user_id: int) -> Response:
        member_remove(actor=request.user, membership=membership_get(_workspace(request, workspace_id), user_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
