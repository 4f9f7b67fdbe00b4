"""Request bodies and answers of the releases API."""
from __future__ import annotations

from typing import Any

from rest_framework import serializers

from backend.graphs.serializers import user_name

from .models import LabelMove, Release, ReleaseLabel


class ReleaseCreateInput(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, required=False, allow_null=True,
                                       help_text="A saved version number; default: the latest")
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ReleaseLabelMoveInput(serializers.Serializer):
    override_reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="",
                                            help_text="An admin's written reason to move production past a "
                                                      "refusing eval gate (audited)")
    release = serializers.IntegerField(min_value=1, help_text="The release number (per graph) to point at")
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ReleaseOut(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    version = serializers.IntegerField(help_text="The graph version number")
    labels = serializers.ListField(child=serializers.CharField())
    prompts = serializers.DictField(child=serializers.CharField(), help_text='{"greeting@production": "greeting@3"}')
    models = serializers.DictField(help_text="Each alias's settings when the release was made (no keys)")
    reason = serializers.CharField()
    cause = serializers.DictField()
    note = serializers.CharField()
    created_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()


class ReleaseLabelOut(serializers.Serializer):
    name = serializers.CharField()
    release = serializers.IntegerField()
    version = serializers.IntegerField()
    moved_by = serializers.CharField(allow_null=True)
    moved_at = serializers.DateTimeField()


class ReleaseLabelMoveOut(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]  # named like Field.label; DRF's metaclass moves it
    from_release = serializers.IntegerField(allow_null=True)
    to_release = serializers.IntegerField()
    reason = serializers.CharField()
    note = serializers.CharField()
    actor = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()


class ReleasesOut(serializers.Serializer):
    releases = ReleaseOut(many=True)
    labels = ReleaseLabelOut(many=True)
    moves = ReleaseLabelMoveOut(many=True)


class ReleaseChangesOut(serializers.Serializer):
    label = serializers.CharField(required=False)  # type: ignore[assignment]  # named like Field.label; DRF's metaclass moves it
    changes_nothing = serializers.BooleanField()
    summary = serializers.ListField(child=serializers.CharField(), help_text="The changes in plain words")
    steps = serializers.DictField()
    prompts = serializers.ListField(child=serializers.DictField())
    models = serializers.ListField(child=serializers.DictField())
    from_release = serializers.DictField(allow_null=True)
    to_release = serializers.DictField()


def release_out(release: Release, labels: list[str] | None = None) -> dict[str, Any]:
    return {"id": release.pk, "number": release.number, "version": release.version.number,
            "labels": labels if labels is not None else sorted(label.name for label in release.labels.all()),
            "prompts": release.prompts, "models": release.model_settings, "reason": release.reason, "cause": release.cause,
            "note": release.note, "created_by": user_name(release.created_by), "created_at": release.created_at}


def label_out(label: ReleaseLabel) -> dict[str, Any]:
    return {"name": label.name, "release": label.release.number, "version": label.release.version.number,
            "moved_by": user_name(label.moved_by), "moved_at": label.moved_at}


def move_out(move: LabelMove) -> dict[str, Any]:
    return {"label": move.label, "from_release": move.from_release.number if move.from_release else None,
            "to_release": move.to_release.number, "reason": move.reason, "note": move.note,
            "actor": user_name(move.actor), "created_at": move.created_at}


def changes_out(changes: dict[str, Any], label: str | None = None) -> dict[str, Any]:
    nothing = not (changes["steps"]["added"] or changes["steps"]["removed"] or changes["steps"]["changed"]
                   or changes["steps"]["wiring"]["added"] or changes["steps"]["wiring"]["removed"]
                   or changes["prompts"] or changes["models"])
    out = {"changes_nothing": nothing, "summary": changes["summary"], "steps": changes["steps"],
           "prompts": changes["prompts"], "models": changes["models"], "from_release": changes["from"],
           "to_release": changes["to"]}
    return {**out, "label": label} if label is not None else out
