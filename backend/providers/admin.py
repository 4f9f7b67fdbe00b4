from django import forms
from django.contrib import admin

from .models import ModelAlias, ModelEvent


class ModelAliasForm(forms.ModelForm):
    api_key = forms.CharField(required=False, widget=forms.PasswordInput, strip=True,
                              help_text="Stored encrypted; leave empty to keep the current key.")

    class Meta:
        model = ModelAlias
        fields = "__all__"

    def save(self, commit: bool = True) -> ModelAlias:
        row = super().save(commit=False)
        if self.cleaned_data.get("api_key"):
            row.set_api_key(self.cleaned_data["api_key"])
        if commit:
            row.save()
        return row


@admin.register(ModelAlias)
class ModelAliasAdmin(admin.ModelAdmin):
    form = ModelAliasForm
    list_display = ("alias", "model", "enabled", "api_base", "input_cost_per_mtok", "output_cost_per_mtok",
                    "breaker_failures")
    list_editable = ("enabled",)


@admin.register(ModelEvent)
class ModelEventAdmin(admin.ModelAdmin):
    """Circuit breaker trips and recoveries: written by the gateway, read here; never edited."""
    list_display = ("at", "alias", "kind", "detail")
    list_filter = ("kind", "alias")

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
