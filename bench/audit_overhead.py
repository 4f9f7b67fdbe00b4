"""What the audit log costs: an audited change with and without its entry, and reading a page of the log.

A change is ``api_key_update`` renaming a key (one transaction: lock, update, re-read, audit entry), called
directly as the view does; "without" swaps the audit call for a no-op, in alternating rounds so load on the
shared machine hits both alike. Reading is ``audit_page`` (50 newest, then filtered by one action) over a
workspace with a few thousand entries.

    .venv/bin/python bench/audit_overhead.py [--changes 300] [--entries 3000]

Needs PostgreSQL at 127.0.0.1:5432 (user postgres); override with BENCH_DATABASE_URL. The database (default
``patchbay_audit_bench``) is created and migrated if missing.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._common import machine, median, p95, table, today, write_section  # noqa: E402
from bench._stack import ensure_database  # noqa: E402

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/patchbay_audit_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
ROUNDS = 4


def setup_django() -> None:
    os.environ.update({"DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL, "SECRET_KEY": "bench-only-not-secret",
                       "PATCHBAY_DATA_DIR": tempfile.mkdtemp(prefix="patchbay-audit-"), "LOG_LEVEL": "WARNING",
                       "DJANGO_SETTINGS_MODULE": "backend.config.settings"})
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=300, help="changes per variant")
    parser.add_argument("--entries", type=int, default=3000, help="entries in the workspace when reading")
    args = parser.parse_args()
    ensure_database(DATABASE_URL, lambda m: print(m, file=sys.stderr))
    setup_django()
    from django.contrib.auth import get_user_model
    from django.db import transaction

    import backend.endpoints.services as services
    from backend.audit.models import AuditEntry
    from backend.audit.selectors import AuditFilter, audit_page
    from backend.graphs.services import workspace_for_user

    user, _ = get_user_model().objects.get_or_create(username=f"audit-bench-{os.getpid()}")
    workspace = workspace_for_user(user)
    key, _ = services.api_key_create(user=user, workspace=workspace, name="k", rate_limit_per_minute=None)
    recorded = services.audit_if_changed
    times: dict[str, list[float]] = {"with": [], "without": []}
    per_round = max(1, args.changes // ROUNDS)
    for round_ in range(ROUNDS):
        for variant in ("without", "with"):
            services.audit_if_changed = recorded if variant == "with" else (lambda **_kw: None)
            for i in range(per_round):
                start = time.perf_counter()
                services.api_key_update(user=user, key=key, name=f"{variant}-{round_}-{i}")
                times[variant].append(time.perf_counter() - start)
    services.audit_if_changed = recorded

    with transaction.atomic():
        while AuditEntry.objects.filter(workspace=workspace).count() < args.entries:
            for i in range(100):
                services.api_key_update(user=user, key=key, name=f"fill-{i % 2}")
    services.api_key_revoke(user=user, key=key)
    count = AuditEntry.objects.filter(workspace=workspace).count()
    newest, filtered = [], []
    for _ in range(100):
        start = time.perf_counter()
        audit_page(workspace, AuditFilter())
        newest.append(time.perf_counter() - start)
        start = time.perf_counter()
        audit_page(workspace, AuditFilter(actions=("api_key.revoked",)))
        filtered.append(time.perf_counter() - start)

    def row(label: str, values: list[float]) -> list[object]:
        return [label, len(values), f"{median(values) * 1000:.2f}", f"{p95(values) * 1000:.2f}"]

    body = "\n\n".join([
        f"## Audit log overhead (`bench/audit_overhead.py`, {today()})",
        f"Machine: {machine()}.",
        table(["operation", "n", "median ms", "p95 ms"], [
            row("api_key_update without its audit entry", times["without"]),
            row("api_key_update with its audit entry (same transaction)", times["with"]),
            row(f"read the 50 newest of {count} entries", newest),
            row(f"read entries filtered by one action (of {count})", filtered),
        ]),
        f"The entry adds {1000 * (median(times['with']) - median(times['without'])):.2f} ms to the median change "
        "(one INSERT in the change's own transaction; no extra commit).",
    ])
    write_section("audit_overhead", body)
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
