"""GET /api/runs/<id>/otlp: a run as OTLP/JSON, for any OpenTelemetry collector or GenAI trace viewer."""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.config.api import ErrorOut

from .otlp import otlp_json
from .selectors import run_get


class RunOtlpView(APIView):
    """The run's trace as an OTLP ExportTraceServiceRequest (JSON mapping); readers of the run may export it."""

    @extend_schema(operation_id="runs_otlp", responses={200: OpenApiTypes.OBJECT, 404: ErrorOut})
    def get(self, request: Request, run_id: str) -> Response:
        return Response(otlp_json(run_get(request.user, run_id)))
