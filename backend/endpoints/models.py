"""Endpoints (a slug serving one release of a graph), their publish history, API keys, idempotency, callbacks.

An endpoint never serves a draft: it follows a release label of its graph (``label``, by default
``production``; releases/models.py) and serves the release that label points at, pinned. ``version`` mirrors
that release's graph version for the pages that show it (moved with the label, releases/signals.py). Publish
and rollback move the label; each, and each unpublish, is recorded as an EndpointRelease.
API keys are stored as a public prefix plus the SHA-256 of the whole key; the
key itself is shown once, at creation.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models


class Endpoint(models.Model):
    workspace = models.ForeignKey("graphs.Workspace", on_delete=models.CASCADE, related_name="endpoints")
    graph = models.ForeignKey("graphs.Graph", on_delete=models.CASCADE, related_name="endpoints")
    # Callers' URLs carry only the slug, so it is unique across workspaces, and it never changes.
    slug = models.SlugField(max_length=64, unique=True)
    description = models.CharField(max_length=500, blank=True)
    version = models.ForeignKey("graphs.GraphVersion", null=True, blank=True, on_delete=models.RESTRICT,
                                related_name="+", help_text="The version callers run; null until first published")
    label = models.SlugField(max_length=50, default="production",
                             help_text="The graph's release label this endpoint serves (releases move it)")
    enabled = models.BooleanField(default=False, help_text="Off: callers get 404; the version and runs are kept")
    signing_secret = models.CharField(max_length=64, help_text="HMAC key that signs result callbacks")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def is_live(self) -> bool:
        return self.enabled and self.version_id is not None


class EndpointRelease(models.Model):
    """One move of an endpoint: publish, rollback or unpublish, with who did it and when.

    ``base`` is the release a rollback returns to, so rolling back twice walks
    back two publishes rather than toggling between the last two versions.
    """

    class Action(models.TextChoices):
        PUBLISHED = "published"
        ROLLED_BACK = "rolled_back"
        UNPUBLISHED = "unpublished"

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="releases")
    action = models.CharField(max_length=20, choices=Action.choices)
    version = models.ForeignKey("graphs.GraphVersion", on_delete=models.RESTRICT, related_name="+")
    previous_version = models.ForeignKey("graphs.GraphVersion", null=True, blank=True, on_delete=models.RESTRICT,
                                         related_name="+")
    base = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The release the endpoint's label was moved to (null: an unpublish, or history from before releases).
    release = models.ForeignKey("releases.Release", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="+")
    note = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class ApiKey(models.Model):
    workspace = models.ForeignKey("graphs.Workspace", on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, help_text="Public part of the key, safe to show")
    secret_hash = models.CharField(max_length=64, help_text="SHA-256 of the whole key")
    scopes = models.JSONField(default=list, blank=True, help_text="Endpoint slugs this key may call; empty: all")
    rate_limit_per_minute = models.PositiveIntegerField(null=True, blank=True, help_text="Run calls per rolling "
                                                        "minute; empty: no limit")
    daily_max_cost_usd = models.FloatField(null=True, blank=True, help_text="Spend cap per UTC day; empty: none")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def may_call(self, slug: str) -> bool:
        return not self.scopes or slug in self.scopes


class IdempotencyRecord(models.Model):
    """The first run made for an ``Idempotency-Key``: a retry with the same body gets this run back."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    run = models.ForeignKey("runs.Run", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["api_key", "key"], name="one_run_per_idempotency_key")]


class CallbackDelivery(models.Model):
    """Where a finished run's result goes, and how the delivery went."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"
        REFUSED = "refused"

    run = models.OneToOneField("runs.Run", on_delete=models.CASCADE, related_name="callback")
    endpoint = models.ForeignKey(Endpoint, null=True, on_delete=models.SET_NULL, related_name="+")
    url = models.URLField(max_length=2000)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)


class EndpointCall(models.Model):
    """Which endpoint started a run: ``Run`` does not know its callers, the endpoint keeps this record.

    A graph may have several endpoints, so the graph of a run does not say which one was called;
    the Endpoints page's calls, errors, latency and cost are read through these rows.
    """

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="calls")
    run = models.OneToOneField("runs.Run", on_delete=models.CASCADE, related_name="endpoint_call")
    created_at = models.DateTimeField(auto_now_add=True)
    # Who called: the API key (never its secret; the call stays when the key is deleted) and the caller's
    # X-Request-Id (or the one Patchbay made up). The runs search finds runs by it (runs/callers.py).
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls")
    request_id = models.CharField(max_length=200, blank=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["endpoint", "created_at"], name="endpoint_call_created"),
                   # A key's usage today and its daily spend cap (selectors.key_spent_today) read these rows.
                   models.Index(fields=["api_key", "created_at"], name="endpoint_call_key_created")]
