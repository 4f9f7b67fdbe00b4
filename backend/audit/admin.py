from __future__ import annotations

from typing import Any

from django.contrib import admin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the log is append-only, and only the services that make a change write to it."""

    list_display = ("created_at", "workspace", "actor_username", "action", "target_type", "target_name")
    list_filter = ("action", "target_type")
    search_fields = ("actor_username", "target_name", "target_id", "request_id")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
