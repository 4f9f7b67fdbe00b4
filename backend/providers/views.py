from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .registry import alias_catalogue


class ModelAliasListView(APIView):
    def get(self, request: Request) -> Response:
        return Response(alias_catalogue())
