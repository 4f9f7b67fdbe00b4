from django.contrib import admin

from .models import ModelAlias


@admin.register(ModelAlias)
class ModelAliasAdmin(admin.ModelAdmin):
    list_display = ("alias", "model", "enabled", "api_base", "input_cost_per_mtok", "output_cost_per_mtok")
    list_editable = ("enabled",)
