"""Run every benchmark in sequence, each in its own process (what `make bench` does).

    .venv/bin/python bench/run_all.py [--only engine_overhead,stack_chain]

Each benchmark replaces its own section of bench/results.md. A failing benchmark does not stop the
others; the exit status is non-zero if any failed.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
BENCHMARKS = ["engine_overhead", "template_cpu", "stack_chain", "patterns_fanout", "canvas_300", "endpoint_throughput",
              "follower_memory", "dead_worker", "storage_per_run", "projection_speed", "published_path", "start_idle"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated names (default: all)")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or BENCHMARKS
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(sorted(unknown))} (known: {', '.join(BENCHMARKS)})")
    failed = []
    for name in names:
        print(f"=== {name} ===", file=sys.stderr, flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(BENCH_DIR / f"{name}.py")], cwd=BENCH_DIR.parent)
        print(f"=== {name}: exit {code} after {time.perf_counter() - started:.1f} s ===", file=sys.stderr, flush=True)
        if code != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"results: {BENCH_DIR / 'results.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
