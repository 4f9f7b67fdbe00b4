"""Releases of a graph, and the labels (production, staging, …) that point at them.

A ``Release`` is what live traffic runs: one immutable GraphVersion plus the exact prompt versions its
``name@label`` references resolved to when the release was made, and a snapshot of the model settings its
aliases had (for the record and the diff; see ``snapshot.py`` for why aliases stay live). Releases are
numbered per graph and never change. A ``ReleaseLabel`` is a movable pointer at one release; every move is
a ``LabelMove`` row, written by the one function that moves labels (``services.release_label_move``).
"""
from __future__ import annotations

from django.conf import settings
from django.db import models

from backend.graphs.models import ImmutableModel


class Release(ImmutableModel):
    class Reason(models.TextChoices):
        PUBLISHED = "published"  # made to publish a graph version (endpoint publish or the Releases view)
        PROMPT_LABEL_MOVED = "prompt_label_moved"  # a prompt label this graph follows moved
        CREATED = "created"  # made by hand from the API
        MIGRATED = "migrated"  # an endpoint's version when releases were introduced

    graph = models.ForeignKey("graphs.Graph", on_delete=models.CASCADE, related_name="releases")
    number = models.PositiveIntegerField()
    version = models.ForeignKey("graphs.GraphVersion", on_delete=models.CASCADE, related_name="releases")
    # {"greeting@production": "greeting@3"}: every prompt reference (subgraphs' too) and the version it pinned.
    prompts = models.JSONField(default=dict, blank=True)
    # {"fast": {"model": "openai/gpt-4o-mini", "timeout_s": 60, …}}: never a key or an api_base.
    model_settings = models.JSONField(default=dict, blank=True)
    content_hash = models.CharField(max_length=64, help_text="Of version + prompts: the same content is reused")
    reason = models.CharField(max_length=30, choices=Reason.choices, default=Reason.PUBLISHED)
    # A release made because a prompt label moved says which: {"prompt": "greeting", "label": "production",
    # "from": 2, "to": 3}; {} otherwise.
    cause = models.JSONField(default=dict, blank=True)
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["graph", "number"], name="one_number_per_release")]

    def __str__(self) -> str:
        return f"release {self.number} of graph {self.graph_id}"


class ReleaseLabel(models.Model):
    """A movable pointer at one release of a graph: ``production`` is what endpoints serve by default."""

    graph = models.ForeignKey("graphs.Graph", on_delete=models.CASCADE, related_name="release_labels")
    name = models.SlugField(max_length=50)
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="labels")
    moved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    moved_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["graph", "name"], name="one_release_label_name_per_graph")]


class LabelMove(models.Model):
    """One move of a release label: from where, to where, who, when, why. Append-only."""

    class Reason(models.TextChoices):
        MOVED = "moved"  # moved by hand (the Releases view or the API)
        PUBLISHED = "published"  # an endpoint publish
        ROLLED_BACK = "rolled_back"  # an endpoint rollback
        PROMPT_LABEL_MOVED = "prompt_label_moved"  # followed a prompt label to a new release
        MIGRATED = "migrated"

    graph = models.ForeignKey("graphs.Graph", on_delete=models.CASCADE, related_name="label_moves")
    label = models.SlugField(max_length=50)
    from_release = models.ForeignKey(Release, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    to_release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=30, choices=Reason.choices, default=Reason.MOVED)
    note = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
