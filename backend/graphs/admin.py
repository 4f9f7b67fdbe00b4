from django.contrib import admin

from .models import Graph, GraphVersion, Membership, Prompt, PromptLabel, PromptVersion, Workspace

admin.site.register([Workspace, Membership, Prompt])


# Who/what-last fields are null but not blank: the admin form would demand them, so it shows them read-only.
@admin.register(Graph)
class GraphAdmin(admin.ModelAdmin):
    readonly_fields = ("created_by", "latest_version")


@admin.register(PromptLabel)
class PromptLabelAdmin(admin.ModelAdmin):
    readonly_fields = ("moved_by",)


@admin.register(GraphVersion, PromptVersion)
class ReadOnlyVersionAdmin(admin.ModelAdmin):
    """Versions are made by saving a graph or prompt (canvas or API), which numbers and hashes them: no add form."""

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
