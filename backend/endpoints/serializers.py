"""Management API shapes: what it accepts (Input) and returns (Out), also the source of its OpenAPI schema."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework import serializers

from backend.releases.selectors import labelled_release

from .models import ApiKey, Endpoint, EndpointRelease
from .openapi import output_schema
from .selectors import key_usage
from .snippets import example_input, snippets


class EndpointCreateInput(serializers.Serializer):
    graph = serializers.IntegerField(min_value=1)
    slug = serializers.CharField(max_length=64, required=False, help_text="Default: the graph's name, slugified")
    description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    publish = serializers.BooleanField(default=True, help_text="Publish at once (default: the latest version)")
    version = serializers.IntegerField(min_value=1, required=False)
    label = serializers.CharField(  # type: ignore[assignment]  # named like Field.label; DRF's metaclass moves it
        max_length=50, required=False, default="production",
        help_text="The graph's release label the endpoint serves (default production)")

    class Meta:
        ref_name = "EndpointCreate"


class EndpointUpdateInput(serializers.Serializer):
    label = serializers.CharField(  # type: ignore[assignment]  # named like Field.label; DRF's metaclass moves it
        max_length=50, help_text="The graph's release label the endpoint serves from now on (one the graph has)")

    class Meta:
        ref_name = "EndpointUpdate"


class MoveInput(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, required=False,
                                       help_text="Publish: default the graph's latest version. Rollback: default "
                                                 "the version live before the current one.")
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    override_reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="",
                                            help_text="Publish past a refusing eval gate (admins; audited)")

    class Meta:
        ref_name = "EndpointMove"


class NoteInput(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    class Meta:
        ref_name = "EndpointNote"


class ReleaseOut(serializers.Serializer):
    action = serializers.ChoiceField(choices=EndpointRelease.Action.choices)
    version = serializers.IntegerField()
    previous_version = serializers.IntegerField(allow_null=True)
    release = serializers.IntegerField(allow_null=True, help_text="The graph's release number the label moved to")
    actor = serializers.CharField(allow_null=True)
    note = serializers.CharField()
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "EndpointRelease"


class GraphRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()

    class Meta:
        ref_name = "GraphRef"


class EndpointUrlsOut(serializers.Serializer):
    run = serializers.CharField()
    openapi = serializers.CharField()
    status = serializers.CharField(help_text="Template: replace {run_id}")

    class Meta:
        ref_name = "EndpointUrls"


class StatsOut(serializers.Serializer):
    calls = serializers.IntegerField()
    running = serializers.IntegerField(help_text="Calls whose run has not ended yet")
    p50_ms = serializers.FloatField(allow_null=True, help_text="Median time a caller waited, accepted to finished")
    p95_ms = serializers.FloatField(allow_null=True)
    cost_usd = serializers.FloatField()

    class Meta:
        ref_name = "EndpointStats"

    def get_fields(self) -> dict[str, serializers.Field]:
        # "errors" is the Serializer's own attribute (its validation errors), so the field is added here.
        fields = super().get_fields()
        errors = serializers.IntegerField(help_text="Calls whose run failed or went over its budget")
        return {"calls": fields.pop("calls"), "errors": errors, **fields}


class EndpointOut(serializers.Serializer):
    slug = serializers.CharField()
    status = serializers.ChoiceField(choices=["live", "off", "draft"],
                                     help_text="live: callers run `version`; off: unpublished (404 to callers); "
                                               "draft: never published")
    graph = GraphRefOut()
    workspace = serializers.IntegerField()
    description = serializers.CharField()
    version = serializers.IntegerField(allow_null=True, help_text="The graph version callers run")
    label = serializers.CharField(  # type: ignore[assignment]  # named like Field.label; DRF's metaclass moves it
        help_text="The graph's release label the endpoint follows")
    release = serializers.IntegerField(allow_null=True, help_text="The release number that label points at")
    latest_version = serializers.IntegerField(allow_null=True, help_text="The graph's newest saved version")
    urls = EndpointUrlsOut()
    input_schema = serializers.JSONField()
    output_schema = serializers.JSONField()
    example_input = serializers.JSONField()
    # A dict, not fixed fields: every snippet snippets.py makes reaches the client (the editor shows each as a tab).
    snippets = serializers.DictField(child=serializers.CharField(), help_text="curl, curl_stream, python, "
                                     "javascript, and any others; the key is read from $PATCHBAY_API_KEY")
    signing_secret = serializers.CharField(help_text="Verifies result callbacks (Patchbay-Signature header)")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    today = StatsOut(help_text="Calls through this endpoint since 00:00 UTC")
    releases = ReleaseOut(many=True, help_text="Newest first: publish, rollback and unpublish moves")

    class Meta:
        ref_name = "Endpoint"


class EndpointDetailOut(EndpointOut):
    class Meta:
        ref_name = "EndpointDetail"


class ApiKeyCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    workspace = serializers.IntegerField(required=False, help_text="Default: your first workspace")
    scopes = serializers.ListField(child=serializers.SlugField(max_length=64), required=False, default=list,
                                   max_length=100, help_text="Endpoint slugs; empty: every endpoint")
    rate_limit_per_minute = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False,
                                                     allow_null=True, help_text="null: no limit")
    daily_max_cost_usd = serializers.FloatField(min_value=0, max_value=1_000_000, required=False, allow_null=True,
                                                help_text="null: no cap")

    class Meta:
        ref_name = "ApiKeyCreate"


class ApiKeyUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    scopes = serializers.ListField(child=serializers.SlugField(max_length=64), required=False, max_length=100)
    rate_limit_per_minute = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False,
                                                     allow_null=True)
    daily_max_cost_usd = serializers.FloatField(min_value=0, max_value=1_000_000, required=False, allow_null=True)

    class Meta:
        ref_name = "ApiKeyUpdate"


class UsageTotalsOut(serializers.Serializer):
    calls = serializers.IntegerField()
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    tokens = serializers.IntegerField()
    cost_usd = serializers.FloatField()

    class Meta:
        ref_name = "UsageTotals"


class UsageOut(serializers.Serializer):
    today = UsageTotalsOut(help_text="Since 00:00 UTC")
    total = UsageTotalsOut()

    class Meta:
        ref_name = "Usage"


class ApiKeyOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The key's public start, e.g. pbk_ab12cd34ef56_…")
    workspace = serializers.IntegerField()
    scopes = serializers.ListField(child=serializers.CharField())
    rate_limit_per_minute = serializers.IntegerField(allow_null=True)
    daily_max_cost_usd = serializers.FloatField(allow_null=True)
    created_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True, help_text="To within 30 seconds")
    revoked_at = serializers.DateTimeField(allow_null=True)
    active = serializers.BooleanField()
    usage = UsageOut()

    class Meta:
        ref_name = "ApiKey"


class ApiKeyCreatedOut(ApiKeyOut):
    key = serializers.CharField(help_text="The whole key. Shown this once: store it now.")

    class Meta:
        ref_name = "ApiKeyCreated"


def _user(user: Any) -> str | None:
    return user.get_username() if user else None


def serving_number(endpoint: Endpoint) -> int | None:
    """The release number the endpoint's label points at (what a call runs), None while never published."""
    release = labelled_release(endpoint.graph_id, endpoint.label) if endpoint.version_id else None
    return release.number if release is not None else None


def release_out(release: EndpointRelease) -> dict[str, Any]:
    return {"action": release.action, "version": release.version.number,
            "previous_version": release.previous_version.number if release.previous_version else None,
            "release": release.release.number if release.release else None,
            "actor": _user(release.actor), "note": release.note, "created_at": release.created_at}


def endpoint_out(endpoint: Endpoint, absolute: Callable[[str], str], *, today: dict[str, Any]) -> dict[str, Any]:
    spec = endpoint.version.spec if endpoint.version else (
        endpoint.graph.latest_version.spec if endpoint.graph.latest_version else {})
    input_schema = spec.get("inputs") or {"type": "object"}
    run_url = absolute(f"/api/v1/flows/{endpoint.slug}/run")
    example = example_input(input_schema)
    status = "live" if endpoint.is_live else ("off" if endpoint.version_id else "draft")
    data = {
        "slug": endpoint.slug, "status": status,
        "graph": {"id": endpoint.graph_id, "name": endpoint.graph.name}, "workspace": endpoint.workspace_id,
        "description": endpoint.description,
        "version": endpoint.version.number if endpoint.version else None,
        "label": endpoint.label, "release": serving_number(endpoint),
        "latest_version": endpoint.graph.latest_version.number if endpoint.graph.latest_version else None,
        "urls": {"run": run_url, "openapi": absolute(f"/api/v1/flows/{endpoint.slug}/openapi.json"),
                 "status": absolute("/api/v1/runs/") + "{run_id}"},
        "input_schema": input_schema, "output_schema": output_schema(spec), "example_input": example,
        "snippets": snippets(run_url, example, input_schema), "signing_secret": endpoint.signing_secret,
        "created_at": endpoint.created_at, "updated_at": endpoint.updated_at, "today": today,
        # Prefetched with their versions and actors by selectors.endpoints_visible_to.
        "releases": [release_out(r) for r in endpoint.releases.all()],
    }
    return data


def api_key_out(key: ApiKey) -> dict[str, Any]:
    return {"id": key.pk, "name": key.name, "prefix": f"pbk_{key.prefix}_…", "workspace": key.workspace_id,
            "scopes": key.scopes, "rate_limit_per_minute": key.rate_limit_per_minute,
            "daily_max_cost_usd": key.daily_max_cost_usd, "created_by": _user(key.created_by),
            "created_at": key.created_at, "last_used_at": key.last_used_at, "revoked_at": key.revoked_at,
            "active": key.is_active, "usage": key_usage(key)}
