"""Fixtures for the audit log: a workspace admin (alice, its owner), members with other roles, staff."""
from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from backend.audit.models import AuditEntry
from backend.graphs.models import Membership, Workspace

from ..conftest import token_for


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client


def workspace_of(user: Any) -> Workspace:
    return Membership.objects.filter(user=user).order_by("id").first().workspace


def member(workspace: Workspace, username: str, role: str) -> Any:
    """A user who belongs to ``workspace`` only, with ``role`` ("viewer", "editor", or the top role)."""
    user = get_user_model().objects.create_user(username, password=f"{username}-pass-123")
    Membership.objects.create(workspace=workspace, user=user, role=role)
    return user


def entries(**filters: Any) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(**filters).order_by("id"))


@pytest.fixture
def staff(db):  # type: ignore[no-untyped-def]
    return get_user_model().objects.create_user("carol", password="carol-pass-123", is_staff=True)


@pytest.fixture
def staff_api(staff):  # type: ignore[no-untyped-def]
    return client_for(staff)
