"""Datasets of real inputs, eval runs over them, and the scores every item gets."""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Dataset(models.Model):
    workspace = models.ForeignKey("graphs.Workspace", on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=200)
    description = models.CharField(max_length=500, blank=True)
    # Held out: only ever used for scoring (never offered as examples, never sampled into prompts).
    held_out = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="one_dataset_name_per_workspace")]


class DatasetItem(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="items")
    input = models.JSONField()
    expected = models.JSONField(null=True, blank=True)  # optional: scorers that need it score 0 without it
    labels = models.JSONField(default=dict, blank=True)  # e.g. {"route": "billing"}
    source_run = models.ForeignKey("runs.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class SamplingRule(models.Model):
    """Copy this share of a graph's finished endpoint runs into a dataset (from the run-finished hook)."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="sampling_rules")
    graph = models.ForeignKey("graphs.Graph", on_delete=models.CASCADE, related_name="+")
    rate = models.FloatField()  # 0 < rate <= 1

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dataset", "graph"], name="one_sampling_rule_per_graph")]


class EvalPolicy(models.Model):
    """A graph's gate: its held-out datasets, the scorers, and how far the pass rate may drop."""

    graph = models.OneToOneField("graphs.Graph", on_delete=models.CASCADE, related_name="eval_policy")
    datasets = models.ManyToManyField(Dataset, related_name="+")
    scorers = models.JSONField(default=list)
    threshold = models.FloatField(default=0.05)  # the largest pass-rate drop allowed (0.05 = 5 points)


class EvalRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("graphs.Workspace", on_delete=models.CASCADE, related_name="eval_runs")
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="eval_runs")
    graph = models.ForeignKey("graphs.Graph", on_delete=models.CASCADE, related_name="eval_runs")
    graph_version = models.ForeignKey("graphs.GraphVersion", on_delete=models.CASCADE, related_name="+")
    # {"name": "greet", "ref": "greet@4"}: every step naming prompt "greet" runs version 4 instead; {} = none.
    candidate = models.JSONField(default=dict, blank=True)
    scorers = models.JSONField(default=list)
    trigger = models.CharField(max_length=40, default="manual")  # manual | graph_version | prompt_version
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)  # stats.summarize(), written when the last item is scored
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


class EvalItem(models.Model):
    """One dataset item in one eval run: the real Run it became, and once scored, its figures."""

    eval_run = models.ForeignKey(EvalRun, on_delete=models.CASCADE, related_name="items")
    item = models.ForeignKey(DatasetItem, null=True, on_delete=models.SET_NULL, related_name="+")
    position = models.PositiveIntegerField()
    run = models.OneToOneField("runs.Run", on_delete=models.CASCADE, related_name="eval_item")
    scored = models.BooleanField(default=False)
    passed = models.BooleanField(null=True)  # every pass/fail scorer passed
    cost_usd = models.FloatField(default=0)  # the run's cost plus the judges'
    latency_ms = models.FloatField(null=True)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["eval_run", "position"], name="one_eval_item_per_position")]


class Score(models.Model):
    """A score like Langfuse's: name, value, data type, source, comment; against a run (and an eval run)."""

    class DataType(models.TextChoices):
        NUMERIC = "NUMERIC"
        BOOLEAN = "BOOLEAN"

    run = models.ForeignKey("runs.Run", on_delete=models.CASCADE, related_name="scores")
    eval_run = models.ForeignKey(EvalRun, null=True, blank=True, on_delete=models.CASCADE, related_name="scores")
    name = models.CharField(max_length=100)
    value = models.FloatField()
    data_type = models.CharField(max_length=10, choices=DataType.choices)
    source = models.CharField(max_length=20, default="EVAL")  # EVAL | HUMAN | API
    comment = models.TextField(blank=True)
    passed = models.BooleanField(null=True)
    cost_usd = models.FloatField(default=0)  # a judge's model call
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["eval_run", "name"], name="score_eval_name")]
