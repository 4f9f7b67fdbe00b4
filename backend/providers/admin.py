from django import forms
from django.contrib import admin

from .models import ModelAlias


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
    list_display = ("alias", "model", "enabled", "api_base", "input_cost_per_mtok", "output_cost_per_mtok")
    list_editable = ("enabled",)
