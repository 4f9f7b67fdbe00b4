from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.config.api import ErrorOut
from backend.graphs.authz import Action, require

from .health import models_overview
from .registry import alias_catalogue
from .services import model_alias_save


class ModelAliasInput(serializers.Serializer):
    model = serializers.CharField(max_length=200, required=False)
    api_base = serializers.URLField(required=False, allow_blank=True)
    api_key_env = serializers.RegexField(r"^[A-Z_][A-Z0-9_]*$", max_length=100, required=False, allow_blank=True)
    api_key = serializers.CharField(max_length=500, required=False, allow_blank=True, write_only=True)
    enabled = serializers.BooleanField(required=False)
    fallbacks = serializers.ListField(child=serializers.SlugField(max_length=50), max_length=5, required=False)
    max_retries = serializers.IntegerField(min_value=0, max_value=10, required=False)
    timeout_s = serializers.FloatField(min_value=0.1, max_value=3600, required=False)
    input_cost_per_mtok = serializers.FloatField(min_value=0, required=False, allow_null=True)
    output_cost_per_mtok = serializers.FloatField(min_value=0, required=False, allow_null=True)
    demo_latency_ms = serializers.FloatField(min_value=0, max_value=600000, required=False)
    demo_tokens_per_s = serializers.FloatField(min_value=0, max_value=100000, required=False)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    breaker_failures = serializers.IntegerField(min_value=0, max_value=1000, required=False, allow_null=True,
                                                help_text="failures that open the circuit; 0 = no breaker")
    breaker_window_s = serializers.FloatField(min_value=1, max_value=86400, required=False, allow_null=True)
    breaker_cooldown_s = serializers.FloatField(min_value=0.1, max_value=86400, required=False, allow_null=True)


class BreakerPolicyOut(serializers.Serializer):
    failures = serializers.IntegerField()
    window_s = serializers.FloatField()
    cooldown_s = serializers.FloatField()


class ModelAliasOut(serializers.Serializer):
    alias = serializers.CharField()
    model = serializers.CharField()
    demo = serializers.BooleanField()
    enabled = serializers.BooleanField(help_text="the kill switch")
    fallbacks = serializers.ListField(child=serializers.CharField())
    input_cost_per_mtok = serializers.FloatField(allow_null=True)
    output_cost_per_mtok = serializers.FloatField(allow_null=True)
    description = serializers.CharField()
    has_api_key = serializers.BooleanField()
    api_base = serializers.CharField()
    max_retries = serializers.IntegerField()
    timeout_s = serializers.FloatField()
    breaker = BreakerPolicyOut(allow_null=True)


class HealthOut(serializers.Serializer):
    calls = serializers.IntegerField()
    failed = serializers.IntegerField(help_text="calls that failed")
    fallbacks = serializers.IntegerField()
    error_rate = serializers.FloatField(allow_null=True)
    p50_ms = serializers.FloatField(allow_null=True)
    p95_ms = serializers.FloatField(allow_null=True)
    spend_today_usd = serializers.FloatField()
    last_error = serializers.CharField()
    last_error_at = serializers.DateTimeField(allow_null=True)


class BreakerStateOut(serializers.Serializer):
    state = serializers.ChoiceField(["closed", "open", "half_open", "unknown"])
    until = serializers.FloatField(allow_null=True, help_text="epoch seconds the open circuit probes again")
    failures = serializers.IntegerField(help_text="failures counted in the current window (closed)")
    last_error = serializers.CharField()


class ModelEventOut(serializers.Serializer):
    kind = serializers.ChoiceField(["tripped", "reopened", "recovered"])
    detail = serializers.CharField()
    at = serializers.DateTimeField()


class ModelOverviewOut(ModelAliasOut):
    health = HealthOut()
    breaker_state = BreakerStateOut()
    events = ModelEventOut(many=True)


class ModelHealthView(APIView):
    """Every alias with its health over the last 24 h (from its spans), its circuit breaker and recent trips."""

    @extend_schema(operation_id="models_health", responses={200: ModelOverviewOut(many=True)})
    def get(self, request: Request) -> Response:
        return Response(models_overview(request.user))


def _entry(alias: str) -> dict:
    return next(e for e in alias_catalogue() if e["alias"] == alias)


class ModelAliasListView(APIView):
    @extend_schema(operation_id="models_list", responses={200: ModelAliasOut(many=True)})
    def get(self, request: Request) -> Response:
        return Response(alias_catalogue())


class ModelAliasDetailView(APIView):
    """PUT creates or updates an alias; the kill switch is `{"enabled": false}`, effective on the next call."""

    @extend_schema(operation_id="models_get", responses={200: ModelAliasOut, 404: ErrorOut})
    def get(self, request: Request, alias: str) -> Response:
        entries = [e for e in alias_catalogue() if e["alias"] == alias]
        if not entries:
            return Response({"error": "not_found", "message": f"No model alias '{alias}'", "problems": []},
                            status=status.HTTP_404_NOT_FOUND)
        return Response(entries[0])

    @extend_schema(operation_id="models_save", request=ModelAliasInput,
                   responses={200: ModelAliasOut, 400: ErrorOut, 403: ErrorOut})
    def put(self, request: Request, alias: str) -> Response:
        # Everyone signed in reads the registry; only staff change it (it is shared by every workspace).
        require(request.user, None, Action.MODEL_ALIAS_CHANGE)
        serializer = ModelAliasInput(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        model_alias_save(alias=alias, data=dict(serializer.validated_data), user=request.user)
        return Response(_entry(alias))

    @extend_schema(operation_id="models_update", request=ModelAliasInput,
                   responses={200: ModelAliasOut, 400: ErrorOut, 403: ErrorOut})
    def patch(self, request: Request, alias: str) -> Response:
        return self.put(request, alias)
