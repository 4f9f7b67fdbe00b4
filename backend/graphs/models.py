"""Workspaces, graphs and prompts. Versions are immutable: a save adds a row."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from backend.engine.canonical import canonical_hash


def content_hash(value: Any) -> str:
    """A stable hash of a JSON value: equal content, equal hash, whatever the key order."""
    return canonical_hash(value)


class ImmutableModel(models.Model):
    """A row that is written once. Corrections are new versions, never edits."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError(f"{type(self).__name__} is immutable: save a new version instead")
        super().save(*args, **kwargs)


class Workspace(models.Model):
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="workspaces")
    # Retention (backend/graphs/retention.py): empty means the deployment's default
    # (PATCHBAY_RETENTION_EVENT_DAYS / PATCHBAY_RETENTION_RUN_DAYS).
    retention_event_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Days a finished run keeps its events and span input/output; "
                                         "empty: the deployment's default")
    retention_run_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Days a finished run's row and totals are kept; empty: the default")
    # Monthly spend cap (backend/runs/spend.py): runs and endpoint calls are refused once the runs started
    # since the 1st (UTC) cost this much; running runs go on.
    monthly_cap_usd = models.FloatField(null=True, blank=True,
                                        help_text="Spend cap per calendar month (UTC) in USD; empty: none")
    warn_at_fraction = models.FloatField(default=0.8, help_text="Warn admins once this fraction of the cap is spent")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in a workspace; what each role may do is decided in ``graphs/authz.py`` only."""

    class Role(models.TextChoices):
        ADMIN = "admin"
        EDITOR = "editor"
        VIEWER = "viewer"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.EDITOR)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="one_membership_per_user")]


class Graph(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="graphs")
    name = models.CharField(max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    latest_version = models.ForeignKey("GraphVersion", null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-updated_at"]


class GraphVersion(ImmutableModel):
    class Reason(models.TextChoices):
        SAVE = "save"  # someone pressed Save (or created the flow)
        RUN = "run"  # made to run unsaved edits: History folds these under the saves

    graph = models.ForeignKey(Graph, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    spec = models.JSONField()
    content_hash = models.CharField(max_length=64)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    message = models.CharField(max_length=500, blank=True)
    reason = models.CharField(max_length=10, choices=Reason.choices, default=Reason.SAVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["graph", "number"], name="one_number_per_graph_version")]


class Prompt(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="prompts")
    name = models.SlugField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="one_prompt_name_per_workspace")]


class PromptVersion(ImmutableModel):
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    template = models.TextField()
    system = models.TextField(blank=True)
    content_hash = models.CharField(max_length=64)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["prompt", "number"], name="one_number_per_prompt_version")]


class PromptLabel(models.Model):
    """A movable pointer (production, staging) to one prompt version: publish and rollback move it."""

    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="labels")
    name = models.SlugField(max_length=50)
    version = models.ForeignKey(PromptVersion, on_delete=models.PROTECT, related_name="labels")
    moved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    moved_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prompt", "name"], name="one_label_name_per_prompt")]
