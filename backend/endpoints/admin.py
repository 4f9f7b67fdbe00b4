from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from backend.config.errors import InvalidRequest

from .keys import new_signing_secret
from .models import ApiKey, CallbackDelivery, Endpoint, EndpointRelease
from .services import api_key_issue, check_scopes


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = ("slug", "graph", "version", "enabled", "updated_at")
    # Bookkeeping the form cannot fill (null, not blank: the form would demand them): set on save, shown read-only.
    readonly_fields = ("signing_secret", "created_by", "label")  # label: moved by releases, not typed here

    def save_model(self, request: HttpRequest, obj: Endpoint, form: Any, change: bool) -> None:
        # The form cannot fill the secret (read-only): a new endpoint gets one, as the API's publish does.
        if not obj.signing_secret:
            obj.signing_secret = new_signing_secret()
        if not change:
            obj.created_by_id = request.user.pk
        super().save_model(request, obj, form, change)


@admin.register(EndpointRelease)
class EndpointReleaseAdmin(admin.ModelAdmin):
    list_display = ("endpoint", "action", "version", "actor", "created_at")
    readonly_fields = ("actor",)


class ApiKeyAddForm(forms.ModelForm):
    """Adding a key: the secret is generated (never typed) and shown once, in a message, after saving."""

    class Meta:
        model = ApiKey
        fields = ("workspace", "name", "scopes", "rate_limit_per_minute", "daily_max_cost_usd")

    def clean_scopes(self) -> list[str]:
        scopes = self.cleaned_data.get("scopes") or []
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise forms.ValidationError('A list of endpoint slugs, e.g. ["support"]; [] for every endpoint.')
        return scopes

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("workspace") is not None and data.get("scopes"):
            try:
                check_scopes(data["workspace"], data["scopes"])
            except InvalidRequest as unknown:
                self.add_error("scopes", "; ".join(p["message"] for p in unknown.problems))
        return data


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "workspace", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "secret_hash", "last_used_at", "created_by", "revoked_by")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = ApiKeyAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.readonly_fields

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ApiKeyAddForm.Meta.fields if obj is None else super().get_fields(request, obj)

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # The same service as the API (scope check, default rate limit, audit entry); staff need no membership.
        data = form.cleaned_data
        key, whole = api_key_issue(user=request.user, workspace=data["workspace"], name=data["name"],
                                   scopes=data["scopes"], rate_limit_per_minute=data["rate_limit_per_minute"],
                                   daily_max_cost_usd=data["daily_max_cost_usd"])
        obj.pk, obj.prefix = key.pk, key.prefix  # the admin's redirect and "added" message use the saved row
        messages.warning(request, f"The key for '{key.name}' is {whole} — copy it now: it is not shown again.")


@admin.register(CallbackDelivery)
class CallbackDeliveryAdmin(admin.ModelAdmin):
    list_display = ("run", "url", "status", "attempts", "last_status_code", "delivered_at")
    readonly_fields = ("endpoint",)
