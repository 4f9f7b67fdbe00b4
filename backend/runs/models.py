"""Runs, their spans and their numbered events."""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Run(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        BUDGET_EXCEEDED = "budget_exceeded"
        CANCELLED = "cancelled"
        # Stopped at an approval step for a person's decision: no worker holds it (runs/approvals.py).
        WAITING = "waiting"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.BUDGET_EXCEEDED, Status.CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: run_workspace_created (workspace, created_at) leads with it and serves every lookup
    # by workspace, the cascade's included (migration 0012).
    workspace = models.ForeignKey("graphs.Workspace", on_delete=models.CASCADE, related_name="runs", db_index=False)
    graph = models.ForeignKey("graphs.Graph", on_delete=models.CASCADE, related_name="runs")
    # Versions only disappear with their graph; deleting a graph deletes its runs with it.
    graph_version = models.ForeignKey("graphs.GraphVersion", on_delete=models.CASCADE, related_name="runs")
    input = models.JSONField()
    output = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True)
    error = models.TextField(blank=True)
    # Not indexed: nothing looks a run up by its trace id (the trace is exported from the run), and a random
    # 32-hex key cost two btree entries (plain and pattern) on every insert and status change (migration 0012).
    trace_id = models.CharField(max_length=32)
    source = models.CharField(max_length=20, default="api")  # api | canvas | replay | endpoint | openai | cli
    budget = models.JSONField(default=dict, blank=True)  # a caller's tightening of the graph budget
    # The nullable foreign keys (created_by, replay_of, release) are indexed only where set (Meta.indexes): a
    # NULL would be an index entry in every run row version that nothing ever looks up (migration 0012).
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                                   db_index=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    # When a decision last moved the run from waiting back to queued (the sweep's queue clock starts there).
    resumed_at = models.DateTimeField(null=True, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.FloatField(default=0)
    llm_calls = models.PositiveIntegerField(default=0)
    latency_ms = models.FloatField(null=True, blank=True)  # engine time; the APIs call it engine_ms
    # Answers served from the cache, and what they saved (the original calls' cost and model time).
    cache_hits = models.PositiveIntegerField(default=0)
    saved_usd = models.FloatField(default=0)
    saved_ms = models.FloatField(default=0)
    fresh = models.BooleanField(default=False)  # "run fresh": skip cache reads (answers are still cached)
    # A run does not know its callers: a published endpoint's call (its API key, the caller's X-Request-Id)
    # is the endpoints app's own record, endpoints.EndpointCall (runs/callers.py reads it for the search).
    # A replay (runs/replay.py): the run it re-ran, the node it re-ran from ("" = all of it), and the one
    # node's prompt or model it changed for this replay ({} = none).
    replay_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays",
                                  db_index=False)
    replay_from_node = models.TextField(blank=True)
    replay_override = models.JSONField(default=dict, blank=True)
    # What the run resolved when it started, so it can be replayed and compared exactly:
    # {"prompts": {"name@label": "name@3"}, "models": {"alias": "litellm/model"}} (runs/resolved.py).
    resolved = models.JSONField(default=dict, blank=True)
    # The release an endpoint call ran (releases/models.py), or that a replay of one on the same version runs
    # again: its prompt versions are pinned. Null for canvas and API runs (and replays of them), which run a
    # graph version as its prompt labels resolve at the start.
    release = models.ForeignKey("releases.Release", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="runs", db_index=False)
    # Set by the run-finished hook as it fires (runs/finished.py): it fires once, and a missed one is found.
    finish_notified = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        # A workspace's runs newest first (the runs list and its filters), and the month's spend summed
        # from the index alone (runs/spend.py): cost_usd rides along.
        indexes = [models.Index(fields=["workspace", "created_at"], include=["cost_usd"],
                                name="run_workspace_created"),
                   # The sweep's look for missed run-finished hooks (runs/finished.py) reads only these rows.
                   models.Index(fields=["finished_at"], condition=models.Q(finish_notified=False),
                                name="run_finish_not_notified"),
                   # Lookups by a nullable foreign key (its SET NULL on delete, the runs search's ?release=)
                   # are equalities, which imply NOT NULL: these partial indexes serve them.
                   *(models.Index(fields=[name], condition=models.Q(**{f"{name}__isnull": False}), name=f"run_{name}")
                     for name in ("created_by", "replay_of", "release"))]

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    # The two latencies, each with one name in every API (README "Run timings"):
    @property
    def engine_ms(self) -> float | None:
        """Time inside the engine, from the first step to the last (what the run's totals call duration_ms)."""
        return self.latency_ms

    @property
    def total_ms(self) -> float | None:
        """What a caller waited: from accepted (created) to finished, queue wait included."""
        if self.finished_at is None:
            return None
        return round((self.finished_at - self.created_at).total_seconds() * 1000, 1)


class Span(models.Model):
    # No index of its own: one_span_id_per_run (run, span_id) leads with it (migration 0012).
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="spans", db_index=False)
    # Span ids are the engine's own (trace.new_id, 16 hex digits); a test holds the engine to this length.
    span_id = models.CharField(max_length=32)
    parent_id = models.CharField(max_length=32, blank=True)
    # Text, not varchar: the engine writes these, and PostgreSQL refusing one would lose the run's trace.
    # node_id is a subgraph path ("qa/answer", up to engine.limits.MAX_NODE_PATH characters); name may be
    # a model's words (an orchestrator worker's title); model is whatever the provider says answered.
    node_id = models.TextField(blank=True)
    kind = models.TextField()  # node | llm | tool, or a pattern's own (plan, worker, sample, iteration...)
    name = models.TextField()
    node_type = models.TextField(blank=True)
    status = models.CharField(max_length=20)  # the engine's span statuses: running | succeeded | failed | ...
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    input = models.JSONField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    model = models.TextField(blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.FloatField(default=0)
    cache_hit = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "span_id"], name="one_span_id_per_run")]
        # The runs search's ?model=: which runs made a model call to this model.
        indexes = [models.Index(fields=["model", "run"], condition=models.Q(kind="llm"), name="span_llm_model")]


class RunEvent(models.Model):
    """Every persisted event of a run, numbered 1, 2, 3... so a client can resume after any."""

    # No index of its own: one_seq_per_run (run, seq) leads with it and reads a run's events in order
    # (migration 0012).
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="events", db_index=False)
    seq = models.PositiveIntegerField()
    type = models.CharField(max_length=40)  # one of engine.trace.PERSISTED_EVENTS
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="one_seq_per_run")]


class Approval(models.Model):
    """One approval step of one run asking a person to decide (runs/approvals.py has the rules).

    Created when the run's ``approval.requested`` event is stored; decided once (a filtered
    UPDATE on ``status``), through the canvas, the API, a signed one-time link, or the deadline.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        REJECTED = "rejected"
        EXPIRED = "expired"  # the deadline passed and its default action was "fail": the run failed

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="approvals")
    workspace = models.ForeignKey("graphs.Workspace", on_delete=models.CASCADE, related_name="+")
    node_id = models.TextField()
    span_id = models.CharField(max_length=32)  # the wait span: the same span is closed with the decision
    title = models.TextField(blank=True)
    draft = models.JSONField(null=True, blank=True)  # what the person is shown (and may edit)
    request = models.JSONField(default=dict)  # the step's config as it asked: fields, deciders, deadline...
    requested_at = models.DateTimeField()
    deadline_at = models.DateTimeField(db_index=True)
    on_deadline = models.CharField(max_length=10)  # approve | reject | fail
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    output = models.JSONField(null=True, blank=True)  # the draft as decided (edited or not)
    fields = models.JSONField(default=dict, blank=True)  # the form's answers (a reason on reject, ...)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_by_label = models.TextField(blank=True)  # a username, "signed link" or "deadline"
    decided_via = models.CharField(max_length=10, blank=True)  # canvas | api | link | deadline
    decided_at = models.DateTimeField(null=True, blank=True)
    edited = models.BooleanField(default=False)
    # The signed one-time link's nonce (only its hash is kept); used once, then never again.
    link_nonce_hash = models.CharField(max_length=64, blank=True)
    link_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "node_id"], name="one_approval_per_step")]
