"""Approval endpoints: the inbox, one step, deciding it (signed in or with a signed one-time link)."""
from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.config.api import ErrorOut, parse
from backend.graphs.authz import may_decide, require_decider

from .approval_links import approval_for_link, link_path, make_link, spend
from .approvals import DecisionInput, check_decision, decide
from .models import Approval, Run


class DecisionIn(serializers.Serializer):
    action = serializers.ChoiceField(choices=["approve", "reject"])
    output = serializers.JSONField(required=False, allow_null=True, help_text="the edited draft (approve only)")
    fields = serializers.DictField(  # type: ignore[assignment]  # the form's answers, not DRF's Serializer.fields
        required=False, help_text='the form\'s answers, e.g. {"reason": "..."}')
    via = serializers.ChoiceField(choices=["api", "canvas"], required=False, default="api")


class ApprovalOut(serializers.Serializer):
    """An approval step as the inbox and the canvas show it (the OpenAPI document's shape of approval_out)."""

    id = serializers.IntegerField()
    run = serializers.UUIDField()
    graph = serializers.IntegerField()
    graph_name = serializers.CharField()
    run_status = serializers.CharField()
    node_id = serializers.CharField()
    title = serializers.CharField(allow_blank=True)
    draft = serializers.JSONField(allow_null=True)
    status = serializers.ChoiceField(choices=Approval.Status.choices)
    allow_edit = serializers.BooleanField()
    require_reason_on_reject = serializers.BooleanField()
    questions = serializers.ListField(child=serializers.DictField())
    deciders = serializers.DictField()
    requested_at = serializers.DateTimeField()
    deadline_at = serializers.DateTimeField()
    on_deadline = serializers.CharField()
    decided_by = serializers.CharField(allow_null=True)
    decided_via = serializers.CharField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    output = serializers.JSONField(allow_null=True)
    answers = serializers.DictField()
    edited = serializers.BooleanField()
    can_decide = serializers.BooleanField()


class LinkOut(serializers.Serializer):
    token = serializers.CharField()
    path = serializers.CharField(help_text="the page to open: /decide/<token>")


def approval_out(approval: Approval, user: Any = None) -> dict[str, Any]:
    request = approval.request or {}
    return {
        "id": approval.pk, "run": str(approval.run_id), "graph": approval.run.graph_id,
        "graph_name": approval.run.graph.name, "run_status": approval.run.status, "node_id": approval.node_id,
        "title": approval.title, "draft": approval.draft, "status": approval.status,
        "allow_edit": bool(request.get("allow_edit", True)),
        "require_reason_on_reject": bool(request.get("require_reason_on_reject", True)),
        "questions": request.get("fields") or [], "deciders": request.get("deciders") or {},
        "requested_at": approval.requested_at, "deadline_at": approval.deadline_at, "on_deadline": approval.on_deadline,
        "decided_by": approval.decided_by_label or None, "decided_via": approval.decided_via or None,
        "decided_at": approval.decided_at, "output": approval.output, "answers": approval.fields or {},
        "edited": approval.edited,
        "can_decide": bool(user is not None and approval.status == Approval.Status.PENDING
                           and may_decide(user, approval.workspace_id, request.get("deciders") or {})),
    }


def _visible(user: Any) -> Any:
    return Approval.objects.select_related("run__graph").filter(workspace__membership__user=user)


def approval_get(user: Any, approval_id: int) -> Approval:
    """One approval the user may read (any member of its workspace), else 404."""
    approval = _visible(user).filter(pk=approval_id).first()
    if approval is None:
        raise Http404
    return approval


def inbox(user: Any) -> list[Approval]:
    """Every decision waiting for ``user``: pending steps of live runs they may decide, oldest first."""
    pending = _visible(user).filter(status=Approval.Status.PENDING,
                                    run__status__in=[Run.Status.WAITING, Run.Status.RUNNING, Run.Status.QUEUED])
    return [a for a in pending.order_by("requested_at")[:500]
            if may_decide(user, a.workspace_id, (a.request or {}).get("deciders") or {})]


class InboxView(APIView):
    @extend_schema(operation_id="approvals_inbox", responses={200: ApprovalOut(many=True)})
    def get(self, request: Request) -> Response:
        return Response([approval_out(a, request.user) for a in inbox(request.user)])


class ApprovalDetailView(APIView):
    @extend_schema(operation_id="approvals_get", responses={200: ApprovalOut, 404: ErrorOut})
    def get(self, request: Request, approval_id: int) -> Response:
        return Response(approval_out(approval_get(request.user, approval_id), request.user))


class ApprovalDecideView(APIView):
    @extend_schema(operation_id="approvals_decide", request=DecisionIn,
                   responses={200: ApprovalOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut})
    def post(self, request: Request, approval_id: int) -> Response:
        data = parse(DecisionIn, request)
        approval = approval_get(request.user, approval_id)
        decided = decide(approval, DecisionInput(data["action"], data.get("output"), data.get("fields"), data["via"]),
                         user=request.user)
        return Response(approval_out(decided, request.user))


class ApprovalLinkView(APIView):
    """Make a signed one-time link for someone without an account (any earlier link stops working)."""

    @extend_schema(operation_id="approvals_link", request=None, responses={201: LinkOut, 403: ErrorOut, 404: ErrorOut})
    def post(self, request: Request, approval_id: int) -> Response:
        approval = approval_get(request.user, approval_id)
        require_decider(request.user, approval.workspace_id, (approval.request or {}).get("deciders") or {})
        token = make_link(approval)
        return Response({"token": token, "path": link_path(token)}, status=201)


class SignedLinkView(APIView):
    """A signed one-time link: read the step (GET) and decide it (POST), once, without an account."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(operation_id="approval_links_get", responses={200: OpenApiTypes.OBJECT, 404: ErrorOut,
                                                                 410: ErrorOut})
    def get(self, request: Request, token: str) -> Response:
        approval, _ = approval_for_link(token)
        return Response(_public(approval_out(approval)))

    @extend_schema(operation_id="approval_links_decide", request=DecisionIn,
                   responses={200: OpenApiTypes.OBJECT, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut, 410: ErrorOut})
    def post(self, request: Request, token: str) -> Response:
        data = parse(DecisionIn, request)
        approval, nonce = approval_for_link(token)
        check_decision(approval, DecisionInput(data["action"], data.get("output"), data.get("fields"), "link"))
        if not spend(approval, nonce):
            approval_for_link(token)  # raises the 410 that says why
        decided = decide(approval, DecisionInput(data["action"], data.get("output"), data.get("fields"), "link"),
                         by="signed link")
        return Response(_public(approval_out(decided)))


def _public(out: dict[str, Any]) -> dict[str, Any]:
    """What a link holder sees: the step and its draft, not the workspace's graph or run ids."""
    return {k: v for k, v in out.items() if k not in ("graph", "graph_name", "run", "run_status", "deciders",
                                                      "can_decide", "node_id")}
