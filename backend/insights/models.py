"""Human labels on a run's steps, and cost projections (dry runs on demo models)."""
from __future__ import annotations

from django.conf import settings
from django.db import models


class RunLabel(models.Model):
    """What a person says a run (or one of its steps) should have done.

    One label per run and node ("" = the run as a whole): a second opinion changes it, and the row keeps who
    last said so and when. ``route`` is the correct route of a router step (the truth for the confusion matrix),
    ``verdict`` whether the answer was right.
    """

    class Verdict(models.TextChoices):
        PASS = "pass"
        FAIL = "fail"

    run = models.ForeignKey("runs.Run", on_delete=models.CASCADE, related_name="labels")
    node_id = models.TextField(blank=True)
    route = models.CharField(max_length=40, blank=True)
    verdict = models.CharField(max_length=4, choices=Verdict.choices, blank=True)
    comment = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["node_id"]
        constraints = [models.UniqueConstraint(fields=["run", "node_id"], name="one_label_per_run_node")]


class Projection(models.Model):
    """A dry run of a list of inputs on demo models priced as the real aliases: cost and time per 1,000 runs."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    graph = models.ForeignKey("graphs.Graph", on_delete=models.CASCADE, related_name="projections")
    graph_version = models.ForeignKey("graphs.GraphVersion", on_delete=models.CASCADE, related_name="+")
    inputs = models.JSONField()  # the list of inputs to dry-run
    source = models.CharField(max_length=20, default="posted")  # posted | recent_runs | dataset
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
