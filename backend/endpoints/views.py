"""Management API for workspace members (session or token): endpoints, their moves, and API keys. Thin."""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.config.api import parse
from backend.config.params import optional_int
from backend.graphs.selectors import graph_get
from backend.graphs.views import pick_workspace

from . import serializers as s
from .auth import ApiKeyAuthentication, KeyCaller
from .errors import CallRefused
from .openapi import flow_document
from .selectors import (
    api_key_get,
    api_keys_visible_to,
    endpoint_for_call,
    endpoint_get,
    endpoint_stats,
    endpoints_visible_to,
    utc_day_start,
)
from .services import (
    api_key_create,
    api_key_revoke,
    api_key_update,
    endpoint_create,
    endpoint_follow_label,
    endpoint_publish,
    endpoint_rollback,
    endpoint_unpublish,
)


def _endpoint(request: Request, slug: str) -> Response:
    endpoint = endpoint_get(request.user, slug)
    today = endpoint_stats([endpoint.pk], since=utc_day_start())[endpoint.pk]
    return Response(s.EndpointDetailOut(s.endpoint_out(endpoint, request.build_absolute_uri, today=today)).data)


class EndpointListView(APIView):
    @extend_schema(responses=s.EndpointOut(many=True), tags=["endpoints"],
                   parameters=[OpenApiParameter("graph", int, description="Only this graph's endpoints")])
    def get(self, request: Request) -> Response:
        graph = optional_int(request.query_params.get("graph"), field="graph", minimum=1)
        endpoints = list(endpoints_visible_to(request.user, graph=graph))
        stats = endpoint_stats([e.pk for e in endpoints], since=utc_day_start())
        return Response(s.EndpointOut([s.endpoint_out(e, request.build_absolute_uri, today=stats[e.pk])
                                       for e in endpoints], many=True).data)

    @extend_schema(request=s.EndpointCreateInput, responses={201: s.EndpointDetailOut}, tags=["endpoints"])
    def post(self, request: Request) -> Response:
        data = parse(s.EndpointCreateInput, request)
        graph = graph_get(request.user, data["graph"])
        endpoint = endpoint_create(user=request.user, graph=graph, slug=data.get("slug"),
                                   description=data["description"], publish=data["publish"],
                                   version_number=data.get("version"), label=data["label"])
        response = _endpoint(request, endpoint.slug)
        response.status_code = status.HTTP_201_CREATED
        return response


class EndpointDetailView(APIView):
    @extend_schema(responses=s.EndpointDetailOut, tags=["endpoints"])
    def get(self, request: Request, slug: str) -> Response:
        return _endpoint(request, slug)

    @extend_schema(request=s.EndpointUpdateInput, responses=s.EndpointDetailOut, tags=["endpoints"],
                   summary="Serve another of the graph's release labels (the next call runs its release)")
    def patch(self, request: Request, slug: str) -> Response:
        data = parse(s.EndpointUpdateInput, request)
        endpoint_follow_label(user=request.user, endpoint=endpoint_get(request.user, slug), label=data["label"])
        return _endpoint(request, slug)


class EndpointPublishView(APIView):
    @extend_schema(request=s.MoveInput, responses=s.EndpointDetailOut, tags=["endpoints"],
                   summary="Point the endpoint at a version and turn it on")
    def post(self, request: Request, slug: str) -> Response:
        data = parse(s.MoveInput, request)
        endpoint_publish(user=request.user, endpoint=endpoint_get(request.user, slug),
                         version_number=data.get("version"), note=data["note"],
                         override_reason=data["override_reason"])
        return _endpoint(request, slug)


class EndpointRollbackView(APIView):
    @extend_schema(request=s.MoveInput, responses=s.EndpointDetailOut, tags=["endpoints"],
                   summary="Point the endpoint back at the previous (or a named) version")
    def post(self, request: Request, slug: str) -> Response:
        data = parse(s.MoveInput, request)
        endpoint_rollback(user=request.user, endpoint=endpoint_get(request.user, slug),
                          version_number=data.get("version"), note=data["note"])
        return _endpoint(request, slug)


class EndpointUnpublishView(APIView):
    @extend_schema(request=s.NoteInput, responses=s.EndpointDetailOut, tags=["endpoints"],
                   summary="Turn the endpoint off (callers get 404; runs are kept)")
    def post(self, request: Request, slug: str) -> Response:
        data = parse(s.NoteInput, request)
        endpoint_unpublish(user=request.user, endpoint=endpoint_get(request.user, slug), note=data["note"])
        return _endpoint(request, slug)


class ApiKeyListView(APIView):
    @extend_schema(responses=s.ApiKeyOut(many=True), tags=["api keys"])
    def get(self, request: Request) -> Response:
        return Response(s.ApiKeyOut([s.api_key_out(k) for k in api_keys_visible_to(request.user)], many=True).data)

    @extend_schema(request=s.ApiKeyCreateInput, responses={201: s.ApiKeyCreatedOut}, tags=["api keys"],
                   summary="Create a key; the response is the only time the whole key is shown")
    def post(self, request: Request) -> Response:
        data = parse(s.ApiKeyCreateInput, request)
        workspace = pick_workspace(request, data.pop("workspace", None))
        key, secret = api_key_create(user=request.user, workspace=workspace, **data)
        out = {**s.api_key_out(api_key_get(request.user, key.pk)), "key": secret}
        return Response(s.ApiKeyCreatedOut(out).data, status=status.HTTP_201_CREATED)


class ApiKeyDetailView(APIView):
    @extend_schema(responses=s.ApiKeyOut, tags=["api keys"])
    def get(self, request: Request, key_id: int) -> Response:
        return Response(s.ApiKeyOut(s.api_key_out(api_key_get(request.user, key_id))).data)

    @extend_schema(request=s.ApiKeyUpdateInput, responses=s.ApiKeyOut, tags=["api keys"])
    def patch(self, request: Request, key_id: int) -> Response:
        key = api_key_get(request.user, key_id)
        api_key_update(user=request.user, key=key, **parse(s.ApiKeyUpdateInput, request))
        return Response(s.ApiKeyOut(s.api_key_out(api_key_get(request.user, key_id))).data)


class ApiKeyRevokeView(APIView):
    @extend_schema(request=None, responses=s.ApiKeyOut, tags=["api keys"],
                   summary="Revoke at once: the next call with this key gets 401")
    def post(self, request: Request, key_id: int) -> Response:
        api_key_revoke(user=request.user, key=api_key_get(request.user, key_id))
        return Response(s.ApiKeyOut(s.api_key_out(api_key_get(request.user, key_id))).data)


class FlowOpenApiView(APIView):
    """One flow's OpenAPI 3.1 document, for an API key that may call it or a member of its workspace."""

    authentication_classes = [ApiKeyAuthentication, SessionAuthentication, TokenAuthentication]

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["flows"],
                   summary="The flow's own OpenAPI 3.1 document (its input and output schemas)")
    def get(self, request: Request, slug: str) -> Response:
        if isinstance(request.user, KeyCaller):
            try:
                endpoint = endpoint_for_call(request.user.api_key, slug)
            except CallRefused as refused:
                raise (PermissionDenied if refused.status == 403 else NotFound)(refused.message) from None
        else:
            endpoint = endpoint_get(request.user, slug)
            if endpoint.version is None:
                raise NotFound(f"The endpoint '{slug}' was never published, so it has no document yet.")
        return Response(flow_document(endpoint, request.build_absolute_uri("/")))
