"""Create the first user on a fresh install and print its credentials once."""
from __future__ import annotations

import os
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from backend.config.embedded import ensure_schema
from backend.graphs.services import workspace_for_user


def create_first_user() -> tuple[str, str] | None:
    """(username, password) of the user made now, or None when there is one already."""
    users = get_user_model().objects
    if users.exists():
        return None
    username = os.environ.get("PATCHBAY_ADMIN_USER", "admin")
    password = os.environ.get("PATCHBAY_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
    user = users.create_superuser(username=username, email="", password=password)
    workspace_for_user(user)
    return username, password


def first_username() -> str | None:
    user = get_user_model().objects.filter(is_superuser=True).order_by("id").first()
    user = user or get_user_model().objects.order_by("id").first()
    return user.get_username() if user else None


def credentials_box(username: str, password: str) -> str:
    line = "=" * 64
    return (f"{line}\n  First user created. Sign in with:\n    user:     {username}\n    password: {password}\n"
            f"  (shown once; to change it: .venv/bin/python manage.py changepassword {username})\n{line}")


def reset_hint(username: str) -> str:
    return (f"Sign in as '{username}' (its password was printed by the first `make run`). Lost it? Set a new one "
            f"with:  .venv/bin/python manage.py changepassword {username}")


class Command(BaseCommand):
    help = "Create an admin user if there is no user yet (PATCHBAY_ADMIN_USER / PATCHBAY_ADMIN_PASSWORD)."

    def handle(self, *args: Any, **options: Any) -> None:
        ensure_schema(self.stdout.write)
        created = create_first_user()
        if created is None:
            self.stdout.write(f"users exist: nothing to do. {reset_hint(first_username() or 'admin')}")
            return
        self.stdout.write(credentials_box(*created))
