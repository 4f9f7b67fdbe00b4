"""manage.py prune [--dry-run]: apply every workspace's retention policy now (see backend/runs/retention.py)."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from backend.runs.retention import runs_prune


class Command(BaseCommand):
    help = ("Delete what each workspace's retention policy no longer keeps: old runs' events and span bodies, "
            "older runs entirely, expired idempotency records and sessions. Running runs are never touched.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count what would go, per table; change nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        report = runs_prune(now=timezone.now(), dry_run=options["dry_run"])
        for line in report.lines():
            self.stdout.write(line)
        if report.dry_run:
            self.stdout.write("dry run: nothing was changed")
