"""The audit log: one append-only row per change that matters to a workspace's admins (or, for the
deployment-wide model registry, to staff).

A row is written by ``services.audit_record`` inside the transaction of the change it describes, so a
change that fails leaves no row and no change happens without one. Rows are never edited: ``save`` refuses
an existing row, the queryset refuses ``update``/``delete``, and PostgreSQL refuses any UPDATE (migration
0001). Deleting a workspace deletes its log with it (the only delete, by cascade).

The actor is kept as an id and the username *at the time* (no foreign key), so a renamed or deleted user
still shows who it was, and removing a user never rewrites the log.
"""
from __future__ import annotations

from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class AppendOnly(Exception):
    """Raised on any attempt to change or delete an audit entry through the app."""


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnly("audit entries are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnly("audit entries are append-only")


class AuditEntry(models.Model):
    class Action(models.TextChoices):
        ENDPOINT_PUBLISHED = "endpoint.published"
        ENDPOINT_ROLLED_BACK = "endpoint.rolled_back"
        ENDPOINT_UNPUBLISHED = "endpoint.unpublished"
        ENDPOINT_LABEL_CHANGED = "endpoint.label_changed"  # the endpoint follows another release label
        PROMPT_LABEL_MOVED = "prompt.label_moved"
        RELEASE_LABEL_MOVED = "release.label_moved"
        API_KEY_CREATED = "api_key.created"
        API_KEY_UPDATED = "api_key.updated"
        API_KEY_REVOKED = "api_key.revoked"
        RETENTION_CHANGED = "retention.changed"
        SPEND_CAP_CHANGED = "spend_cap.changed"
        MEMBER_ADDED = "member.added"
        MEMBER_REMOVED = "member.removed"
        MEMBER_ROLE_CHANGED = "member.role_changed"
        EVAL_GATE_OVERRIDDEN = "eval_gate.overridden"  # a publish the eval gate refused, let through with a reason
        # deployment-wide (workspace is null; staff read them)
        MODEL_CREATED = "model.created"
        MODEL_UPDATED = "model.updated"
        MODEL_SWITCHED_OFF = "model.switched_off"
        MODEL_SWITCHED_ON = "model.switched_on"

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    workspace = models.ForeignKey("graphs.Workspace", null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="+", help_text="Empty: a deployment-wide change (model registry)")
    actor_user_id = models.IntegerField(null=True, blank=True, help_text="Empty: the system (no signed-in user)")
    actor_username = models.CharField(max_length=150, blank=True, help_text="The username at the time")
    action = models.CharField(max_length=40, choices=Action.choices)
    target_type = models.CharField(max_length=40)
    target_id = models.CharField(max_length=200)
    target_name = models.CharField(max_length=300, blank=True)
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    request_id = models.CharField(max_length=200, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]  # ids follow insertion: newest first, and a stable cursor for paging
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["workspace", "-id"], name="audit_workspace_newest"),
                   models.Index(fields=["workspace", "action", "-id"], name="audit_workspace_action")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_username or 'system'} {self.action} " \
               f"{self.target_type} {self.target_name or self.target_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnly("audit entries are append-only")
