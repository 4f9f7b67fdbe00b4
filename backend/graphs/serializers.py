"""Input serializers (what the API accepts) and output shapes (what it returns)."""
from __future__ import annotations

from typing import Any

from rest_framework import serializers

from backend.config.api import ProblemOut

from .models import Graph, GraphVersion, Prompt, PromptVersion


class SpecInput(serializers.Serializer):
    spec = serializers.JSONField()
    message = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class VersionSaveInput(SpecInput):
    reason = serializers.ChoiceField(choices=GraphVersion.Reason.choices, required=False,
                                     default=GraphVersion.Reason.SAVE,
                                     help_text="run: saved only to run unsaved edits (History folds these)")


class GraphCreateInput(SpecInput):
    workspace = serializers.IntegerField(required=False)


class PromptCreateInput(serializers.Serializer):
    name = serializers.SlugField(max_length=100)
    template = serializers.CharField(max_length=100_000, trim_whitespace=False)
    system = serializers.CharField(max_length=100_000, required=False, allow_blank=True, default="",
                                   trim_whitespace=False)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    message = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    workspace = serializers.IntegerField(required=False)


class PromptVersionInput(serializers.Serializer):
    template = serializers.CharField(max_length=100_000, trim_whitespace=False)
    system = serializers.CharField(max_length=100_000, required=False, allow_blank=True, default="",
                                   trim_whitespace=False)
    message = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class LabelMoveInput(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)


def user_name(user: Any) -> str | None:
    return user.get_username() if user else None


def version_summary(version: GraphVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "content_hash": version.content_hash,
        "author": user_name(version.author),
        "message": version.message,
        "reason": version.reason,
        "created_at": version.created_at,
    }


def version_detail(version: GraphVersion) -> dict[str, Any]:
    return {**version_summary(version), "spec": version.spec}


def graph_summary(graph: Graph) -> dict[str, Any]:
    latest = graph.latest_version
    return {
        "id": graph.pk,
        "name": graph.name,
        "workspace": graph.workspace_id,
        "created_at": graph.created_at,
        "updated_at": graph.updated_at,
        "latest_version": version_summary(latest) if latest else None,
    }


def graph_detail(graph: Graph) -> dict[str, Any]:
    latest = graph.latest_version
    return {**graph_summary(graph), "spec": latest.spec if latest else None}


def prompt_version_out(version: PromptVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "template": version.template,
        "system": version.system,
        "author": user_name(version.author),
        "message": version.message,
        "content_hash": version.content_hash,
        "created_at": version.created_at,
    }


def prompt_out(prompt: Prompt) -> dict[str, Any]:
    latest = prompt.versions.order_by("-number").first()
    return {
        "name": prompt.name,
        "description": prompt.description,
        "workspace": prompt.workspace_id,
        "labels": {label.name: label.version.number for label in prompt.labels.select_related("version")},
        "latest_version": prompt_version_out(latest) if latest else None,
    }


# --- Output shapes, for the OpenAPI document (the views build plain dicts of these shapes). ---

class VersionSummaryOut(serializers.Serializer):
    number = serializers.IntegerField()
    content_hash = serializers.CharField()
    author = serializers.CharField(allow_null=True)
    message = serializers.CharField()
    reason = serializers.ChoiceField(choices=GraphVersion.Reason.choices)
    created_at = serializers.DateTimeField()


class VersionDetailOut(VersionSummaryOut):
    spec = serializers.JSONField(help_text="the graph document (patchbay.graph/v1)")


class GraphOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    workspace = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    latest_version = VersionSummaryOut(allow_null=True)
    spec = serializers.JSONField(required=False)


class GraphSavedOut(GraphOut):
    created_version = serializers.BooleanField(help_text="false when the spec equals the latest version")
    warnings = ProblemOut(many=True, required=False,
                          help_text="saved, but worth a look (e.g. a join reading a step only some paths run)")


class GraphCreatedOut(GraphOut):
    warnings = ProblemOut(many=True, required=False,
                          help_text="saved, but worth a look (e.g. a join reading a step only some paths run)")


class ValidationOut(serializers.Serializer):
    valid = serializers.BooleanField()
    problems = ProblemOut(many=True)


class NodeTypeOut(serializers.Serializer):
    type = serializers.CharField()
    title = serializers.CharField()
    pattern = serializers.CharField()
    description = serializers.CharField()
    config_schema = serializers.JSONField()
    out_ports = serializers.ListField(child=serializers.CharField(), help_text="The static out-ports.")
    ports_from_config = serializers.CharField(
        allow_null=True, help_text='Ports named by the config before the static ones: "<list>[].<field>".')


class PromptVersionOut(serializers.Serializer):
    number = serializers.IntegerField()
    template = serializers.CharField()
    system = serializers.CharField()
    author = serializers.CharField(allow_null=True)
    message = serializers.CharField()
    content_hash = serializers.CharField()
    created_at = serializers.DateTimeField()


class PromptOut(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    workspace = serializers.IntegerField()
    labels = serializers.DictField(child=serializers.IntegerField(), help_text="label → version number")
    latest_version = PromptVersionOut(allow_null=True)


class LabelOut(serializers.Serializer):
    prompt = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # named like Field.label; DRF's metaclass moves it
    version = serializers.IntegerField()
