"""Cost projection: how long a dry run of N inputs takes, and what it projects, for two example graphs.

The engine runs for real on every input, on a virtual-time loop with demo answers priced as the aliases
(backend/insights/projection.py): wall time is the engine's and the pricing's CPU, not the models' pace.
Needs the database (the model registry): DATABASE_URL and REDIS_URL as for the tests.

    .venv/bin/python bench/projection_speed.py [--inputs 200]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.config.settings")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import django  # noqa: E402

django.setup()

from backend.graphs.selectors import dependencies  # noqa: E402
from backend.insights.projection import dry_run, summarize  # noqa: E402
from backend.providers.gateway import litellm_module  # noqa: E402
from bench._common import machine, table, today, write_section  # noqa: E402

MESSAGES = ["I was charged twice, please refund the second payment.", "The app crashes with an error at login.",
            "This is unacceptable, the worst service ever.", "Hello, a quick question about my account."]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inputs", type=int, default=200)
    args = parser.parse_args()
    litellm_module()  # its import (seconds) is paid once per worker, not per projection
    rows = []
    for name, make in (("routing", lambda i: {"message": f"{MESSAGES[i % 4]} (ticket {i})"}),
                       ("evaluator_optimizer", lambda i: {"message": f"{MESSAGES[i % 4]} (ticket {i})"})):
        spec = json.loads((ROOT / "graphs" / f"{name}.json").read_text())
        inputs = [make(i) for i in range(args.inputs)]
        started = time.perf_counter()
        found = summarize(dry_run(spec, inputs, dependencies(None, spec)))
        wall = time.perf_counter() - started
        rows.append([f"`graphs/{name}.json`", args.inputs, f"{wall:.2f}", f"{wall / args.inputs * 1000:.1f}",
                     f"${found['cost_per_1000_runs_usd']:.4f}", f"{found['p50_latency_ms']:.0f}",
                     f"{found['p95_latency_ms']:.0f}", found["failed"]])
    body = f"""## Cost projection: a dry run of {args.inputs} inputs (`bench/projection_speed.py`)

Measured {today()} on {machine()}. In one process, as the Celery task runs it: the real engine on each input,
demo answers priced by the gateway at the aliases' prices, model waits on a virtual-time loop (so the projected
latency is the aliases' pace along the critical path, and costs no wall time). The aliases here are whatever
the database's registry says; with no rows, the built-in ones (`fast` answers in 20 ms, `frontier` in 60 ms,
`judge` in 40 ms), so the projected times are short; the seeded demo registry (fixtures/models.json) paces them
like real models.

{table(["graph", "inputs", "wall s", "ms per input", "projected per 1,000 runs", "projected p50 ms",
        "projected p95 ms", "would fail"], rows)}
"""
    write_section("projection_speed", body)
    print(body)


if __name__ == "__main__":
    main()
