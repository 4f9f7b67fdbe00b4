"""Load the default model aliases and demo prompts (safe to run again)."""
from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from backend.config.embedded import ensure_schema
from backend.graphs.models import Prompt
from backend.graphs.services import prompt_create, workspace_for_user
from backend.providers.seeding import seed_model_aliases


class Command(BaseCommand):
    help = "Seed model aliases (fixtures/models.json) and demo prompts (fixtures/prompts.json)."

    def handle(self, *args: Any, **options: Any) -> None:
        ensure_schema(self.stdout.write)
        fixtures = settings.BASE_DIR / "fixtures"
        aliases = seed_model_aliases(fixtures / "models.json")
        self.stdout.write(f"model aliases: {', '.join(aliases)}")
        user = get_user_model().objects.order_by("id").first()
        if user is None:
            self.stdout.write("no user yet: demo prompts are loaded once a first user exists")
            return
        workspace = workspace_for_user(user)
        doc = json.loads((fixtures / "prompts.json").read_text())
        for entry in doc["prompts"]:
            if not Prompt.objects.filter(workspace=workspace, name=entry["name"]).exists():
                prompt_create(workspace=workspace, user=user, name=entry["name"], template=entry["template"],
                              system=entry.get("system", ""), description=entry.get("description", ""))
        self.stdout.write(f"demo prompts in '{workspace.name}': {', '.join(p['name'] for p in doc['prompts'])}")
