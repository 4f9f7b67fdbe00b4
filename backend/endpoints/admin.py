from __future__ import annotations

from django.contrib import admin

from .models import ApiKey, CallbackDelivery, Endpoint, EndpointRelease


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = ("slug", "graph", "version", "enabled", "updated_at")
    readonly_fields = ("signing_secret",)


@admin.register(EndpointRelease)
class EndpointReleaseAdmin(admin.ModelAdmin):
    list_display = ("endpoint", "action", "version", "actor", "created_at")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "workspace", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "secret_hash", "last_used_at")


@admin.register(CallbackDelivery)
class CallbackDeliveryAdmin(admin.ModelAdmin):
    list_display = ("run", "url", "status", "attempts", "last_status_code", "delivered_at")
