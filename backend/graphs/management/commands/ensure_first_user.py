"""Create the first user on a fresh install and print its credentials once."""
from __future__ import annotations

import os
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from backend.graphs.services import workspace_for_user


class Command(BaseCommand):
    help = "Create an admin user if there is no user yet (PATCHBAY_ADMIN_USER / PATCHBAY_ADMIN_PASSWORD)."

    def handle(self, *args: Any, **options: Any) -> None:
        users = get_user_model().objects
        if users.exists():
            self.stdout.write("users exist: nothing to do")
            return
        username = os.environ.get("PATCHBAY_ADMIN_USER", "admin")
        password = os.environ.get("PATCHBAY_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        user = users.create_superuser(username=username, email="", password=password)
        workspace_for_user(user)
        line = "=" * 60
        self.stdout.write(f"{line}\n  First user created. Sign in with:\n    user:     {username}\n"
                          f"    password: {password}\n  (shown once; change it in the admin)\n{line}")
