from django.contrib import admin

from .models import Graph, GraphVersion, Membership, Prompt, PromptLabel, PromptVersion, Workspace

admin.site.register([Workspace, Membership, Graph, Prompt, PromptLabel])


@admin.register(GraphVersion, PromptVersion)
class ReadOnlyVersionAdmin(admin.ModelAdmin):
    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
