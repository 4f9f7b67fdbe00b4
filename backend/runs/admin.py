from django.contrib import admin

from .models import Run, Span


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ("id", "graph", "status", "cost_usd", "latency_ms", "created_at")
    list_filter = ("status",)
    readonly_fields = ("created_by",)  # null but not blank: the form would demand it


@admin.register(Span)
class SpanAdmin(admin.ModelAdmin):
    list_display = ("run", "node_id", "kind", "status", "model", "input_tokens", "output_tokens", "cost_usd")
