"""Where one sync call's time goes at 1 client: a timeline from the HTTP request to the answer (issue 16).

One client, keep-alive HTTP, sync calls of the published endpoint (``chain3`` and ``fanout3`` of
``bench/published_path.py`` on a 100 ms ``bench/fake_openai.py`` model). For every call, timestamps on one clock
(the machine's ``time.time()``):

- client: request sent, answer received (``bench/loadgen.py`` in timeline mode, a process of its own: one
  keep-alive HTTP/1.1 connection on uvloop, the light harness of ``bench/published_path.py``);
- run row: ``created_at`` (the INSERT, in the web), ``started_at`` (the worker's claim), ``finished_at``;
- Celery (``sitecustomize`` probe on the children's path, no code in the product): the web's publish
  (``before_task_publish`` / ``after_task_publish``), the worker's consumer receiving the message
  (``task_received``) and its pool thread starting the task (``task_prerun``);
- the fake model (``fake_openai.py --uvloop --timing-file``, a process of its own): each request arriving and its
  answer written;
- events: the engine's ``ts`` (emitted) of run.started and run.completed.

Prints the median of each interval over ``--calls`` calls per flow. ``--before DIR`` serves another checkout of
the project first and then this one, alternating ``--rounds`` times, in one session.

    .venv/bin/python bench/hop_timeline.py [--calls 30] [--before /tmp/base] [--rounds 2] [--write]
"""
from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._common import machine, median, table, today, write_section  # noqa: E402
from bench._stack import Child, fake_model_child, stack_env, start_web, start_worker  # noqa: E402
from bench.loadgen import Generator  # noqa: E402
from bench.published_path import DATABASE_URL, REDIS_URL, bench_environment, setup_fixtures, wait_healthy  # noqa: E402

LATENCY_MS = 100.0
nan = float("nan")

# Loaded by every Python process whose path starts with the probe's directory (web server, worker): Celery's
# signals, appended to HOP_PROBE_FILE as "<what> <run id> <time>". Nothing in the product knows about it.
PROBE = '''
import os, time
_path = os.environ.get("HOP_PROBE_FILE")
if _path:
    from celery import signals

    def _note(what, run_id):
        with open(_path, "a") as out:
            out.write(f"{what} {run_id} {time.time():.6f}\\n")

    def _run_id(headers, body):
        if (headers or {}).get("task") == "runs.execute_run":
            return body[0][0]

    def _before(sender=None, body=None, headers=None, **_):
        run_id = _run_id(headers, body)
        if run_id:
            _note("publish", run_id)

    def _after(sender=None, body=None, headers=None, **_):
        run_id = _run_id(headers, body)
        if run_id:
            _note("published", run_id)

    def _received(sender=None, request=None, **_):
        if request is not None and request.name == "runs.execute_run":
            _note("received", request.args[0])

    def _prerun(sender=None, args=None, **_):
        if getattr(sender, "name", "") == "runs.execute_run":
            _note("prerun", args[0])

    signals.before_task_publish.connect(_before, weak=False)
    signals.after_task_publish.connect(_after, weak=False)
    signals.task_received.connect(_received, weak=False)
    signals.task_prerun.connect(_prerun, weak=False)

    # The worker's model calls, as "<what> - <time>" lines: the gateway's complete() entered and left, and its
    # one litellm.acompletion() (inside _plain) entered and returned. Wrapped once the gateway module is loaded
    # (a finder that steps aside after its one module); one client, so time windows tell the runs apart.
    import functools, importlib.abc, importlib.util, sys

    def _timed(fn, enter, leave):
        @functools.wraps(fn)
        async def call(*args, **kwargs):
            _note(enter, "-")
            try:
                return await fn(*args, **kwargs)
            finally:
                _note(leave, "-")
        return call

    class _GatewayProbe(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name != "backend.providers.gateway":
                return None
            sys.meta_path.remove(self)
            spec = importlib.util.find_spec(name)
            run_module = spec.loader.exec_module

            def exec_module(module):
                run_module(module)
                gateway = getattr(module, "LiteLLMGateway", None)
                if gateway is not None and hasattr(gateway, "_plain"):  # a tree of another shape: no marks
                    gateway.complete = _timed(gateway.complete, "gateway_enter", "gateway_exit")
                    gateway._plain = _timed(gateway._plain, "litellm_call", "litellm_return")

            spec.loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, _GatewayProbe())
'''


INTRO = """## One sync call's timeline at 1 client, and the web → worker hop (`bench/hop_timeline.py`, issue 16)

One keep-alive client, sync calls of the published endpoints of `bench/published_path.py` (`chain3`: 3 llm steps
in a row; `fanout3`: a parallel node of 3 branches) on `bench/fake_openai.py` at 100 ms per call. Timestamps on the
machine's clock: the client's send and answer, the run row (`created_at` = the web's INSERT, `started_at` = the
claim, `finished_at`), Celery's signals in web and worker (a `sitecustomize` probe on their path, nothing in the
product), the engine's `ts` of run.started / run.completed, and the fake model's arrival and answer of each call.
**before** = the `--before` checkout, **after** = this tree; the two alternate `--rounds` times, `--calls` calls of
each flow per round. The in-process enqueue row: before = the marker's `SET` then `execute_run.apply_async`,
after = `runs/dispatch.py` (the same Celery message pushed with the marker in one `MULTI`/`EXEC`). CPU per run = psutil CPU of the web server and of the worker over the level / calls.
Harness: the light one of `published_path` — the client is `bench/loadgen.py` (timeline mode: one keep-alive
HTTP/1.1 connection on uvloop, `time.time()` just before the request is written and after its whole answer is read)
and the fake model `fake_openai.py --uvloop --timing-file` (arrival when its handler chain starts, answer once aiohttp
has written the whole response), each in a process of its own: no GIL shared between the client, the model and the
bench, so the model's own HTTP handling no longer falls into litellm's request/answer."""


def log(message: str) -> None:
    print(f"[hop_timeline {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class TimedFake:
    """bench/fake_openai.py in its own process on uvloop (the light harness of published_path), writing each
    request's arrival and answer times (``--timing-file``: the answer's time is taken once aiohttp has written
    it) to a file read here."""

    def __init__(self) -> None:
        self.timing_file = Path(tempfile.mkdtemp(prefix="patchbay-hop-fake-")) / "timing.log"
        self.child, self.url = fake_model_child("--latency-ms", f"{LATENCY_MS:g}", "--uvloop",
                                                "--timing-file", str(self.timing_file))

    @property
    def seen(self) -> list[tuple[float, float]]:
        """(arrived, answered) of every chat-completions request so far."""
        if not self.timing_file.exists():
            return []
        return [(float(a), float(b)) for a, b in (line.split() for line in self.timing_file.read_text().splitlines()
                                                  if line.strip())]

    def calls_between(self, start: float, end: float) -> list[tuple[float, float]]:
        """The model calls that arrived in [start, end]: one client, so one run's (its later steps' prompts hold
        the model's answers, not the input's tag)."""
        return sorted((a, b) for a, b in self.seen if start <= a <= end)

    def stop(self) -> None:
        import shutil

        self.child.stop()
        shutil.rmtree(self.timing_file.parent, ignore_errors=True)


class Stack:
    """Web server + one worker of one tree with the probe on their path."""

    def __init__(self, code: Path, tag: str, probe_dir: str):
        self.data_dir = tempfile.mkdtemp(prefix="patchbay-hop-")
        self.queue = f"patchbay-hop-{os.getpid()}-{tag}"
        self.probe_file = Path(self.data_dir) / "probe.log"
        env = stack_env(DATABASE_URL, REDIS_URL, self.queue, self.data_dir)
        env["PYTHONPATH"] = f"{probe_dir}{os.pathsep}{code}"
        env["HOP_PROBE_FILE"] = str(self.probe_file)
        self.worker = start_worker(env, f"hop-{os.getpid()}-{tag}@{socket.gethostname()}", 64, code)
        self.web, port = start_web(env, code)
        self.url = f"http://127.0.0.1:{port}"
        self.started = time.perf_counter()
        self.processes: list[Child] = [self.worker, self.web]

    def children(self) -> list[Child]:
        return self.processes

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds used so far by the web server and the worker (user + system)."""
        import psutil

        def used(child: Child) -> float:
            times = psutil.Process(child.process.pid).cpu_times()
            return times.user + times.system

        return {"web": used(self.web), "worker": used(self.worker)}

    def probes(self) -> dict[str, dict[str, float]]:
        found: dict[str, dict[str, float]] = defaultdict(dict)
        if self.probe_file.exists():
            for line in self.probe_file.read_text().splitlines():
                what, run_id, at = line.split()
                found[run_id].setdefault(what, float(at))
        return found

    def model_call_marks(self) -> list[tuple[str, float]]:
        """The gateway probe's (what, time) marks of every model call, in time order."""
        if not self.probe_file.exists():
            return []
        marks = [line.split() for line in self.probe_file.read_text().splitlines()]
        return sorted(((what, float(at)) for what, run_id, at in marks if run_id == "-"), key=lambda m: m[1])

    def stop(self) -> None:
        import shutil

        import redis

        for child in reversed(self.processes):
            child.stop()
        redis.Redis.from_url(REDIS_URL).delete(self.queue, f"_kombu.binding.{self.queue}")
        shutil.rmtree(self.data_dir, ignore_errors=True)


def calls(url: str, key: str, shape: str, n: int, tag: str) -> list[tuple[str, float, float, str]]:
    """``n`` sync calls back to back on one keep-alive connection, made by ``bench/loadgen.py`` (timeline mode) in
    a process of its own: (input text, sent, answered, run id), times on this machine's clock."""
    generator = Generator()
    try:
        result = generator.run(url=url, key=key, slug=f"bench-{shape}", clients=1, per_client=n, tag=tag,
                               mode="timeline")
    finally:
        generator.close()
    if result["failures"]:
        raise RuntimeError(f"{shape} call failed: {result['failures']}")
    return [(text, sent, answered, run_id) for text, sent, answered, run_id in result["calls"]]


def timelines(stack: Stack, fake: TimedFake, done: list[tuple[str, float, float, str]]) -> list[dict[str, float]]:
    """Per call, the intervals (ms) between consecutive points of its timeline."""
    import django

    django.setup()
    from django.db import connections

    from backend.runs.models import Run, RunEvent

    probes = stack.probes()
    rows = []
    for _text, sent, answered, run_id in done:
        run = Run.objects.get(pk=run_id)
        events = {e.type: e.payload.get("ts") for e in RunEvent.objects.filter(run_id=run_id,
                                                                              type__in=["run.started",
                                                                                        "run.completed"])}
        model = fake.calls_between(sent, answered)
        p = probes.get(run_id, {})
        assert run.started_at is not None and run.finished_at is not None
        points = [("request sent", sent), ("run row INSERT", run.created_at.timestamp()),
                  ("worker receives", p.get("received", nan)),
                  ("task thread starts", p.get("prerun", nan)),
                  ("claimed", run.started_at.timestamp()),
                  ("run.started emitted", events.get("run.started") or nan),
                  ("first model request", model[0][0]), ("last model answer", max(b for _, b in model)),
                  ("run.completed emitted", events.get("run.completed") or nan),
                  ("finish_run wrote", run.finished_at.timestamp()), ("answer received", answered)]
        row = {f"{a} → {b}": (tb - ta) * 1000 for (a, ta), (b, tb) in zip(points, points[1:])}
        # Only where the message goes through apply_async (Celery's publish signals; runs/dispatch.py has none).
        row["of the hop: apply_async's publish"] = (p.get("published", nan) - p.get("publish", nan)) * 1000
        # Model time on the critical path is the fake's; what the worker adds between model calls is the gaps.
        gaps = [(model[i + 1][0] - model[i][1]) * 1000 for i in range(len(model) - 1)] if len(model) == 3 and \
            all(model[i + 1][0] > model[i][1] for i in range(2)) else []
        row["between model calls (sum)"] = sum(gaps) if gaps else nan
        row.update(gap_parts(stack.model_call_marks(), model, sent, answered))
        row["model answers (sum of critical path)"] = (
            sum(b - a for a, b in model) if gaps else max(b for _, b in model) - min(a for a, _ in model)) * 1000
        # The fake's own time per call beyond its sleep: its HTTP handling, now in a process of its own.
        row["per model call: the fake model's own time (arrived → answer written)"] = median(
            [b - a for a, b in model]) * 1000
        row["total wall"] = (answered - sent) * 1000
        row["overhead (wall − 100 ms × steps)"] = row["total wall"] - LATENCY_MS * (3 if gaps else 1)
        rows.append(row)
    connections.close_all()
    return rows


# What one model call adds on the worker's critical path, split by the gateway probe's marks and the fake model's
# own clock (medians per call of the run; chain3's gaps between calls are the sum of the four).
GAP_PARTS = ("per model call: litellm's request (acompletion entered → the model has it)",
             "per model call: litellm's answer (the model answered → acompletion returns)",
             "per model call: gateway before litellm (complete entered → acompletion entered)",
             "per model call: gateway after litellm (acompletion returns → complete returns)",
             "between calls: engine (complete returns → next complete entered)")


def gap_parts(marks: list[tuple[str, float]], model: list[tuple[float, float]], sent: float,
              answered: float) -> dict[str, float]:
    """Medians (ms) of GAP_PARTS for one call's run; nan where the probe saw nothing (a tree without it)."""
    calls: list[dict[str, float]] = []
    for what, at in marks:
        if not sent <= at <= answered:
            continue
        if what == "gateway_enter":
            calls.append({})
        if calls:
            calls[-1].setdefault(what, at)
    parts: dict[str, list[float]] = {k: [] for k in GAP_PARTS}
    for n, c in enumerate(calls):
        if len(c) < 4:
            continue
        arrived = [a for a, b in model if c["litellm_call"] <= a and b <= c["litellm_return"]]
        if len(arrived) != 1:
            continue  # a fan-out's calls overlap: no one answer belongs to one call
        answer = next(b for a, b in model if a == arrived[0])
        parts[GAP_PARTS[0]].append(arrived[0] - c["litellm_call"])
        parts[GAP_PARTS[1]].append(c["litellm_return"] - answer)
        parts[GAP_PARTS[2]].append(c["litellm_call"] - c["gateway_enter"])
        parts[GAP_PARTS[3]].append(c["gateway_exit"] - c["litellm_return"])
        if n + 1 < len(calls) and "gateway_enter" in calls[n + 1]:
            parts[GAP_PARTS[4]].append(calls[n + 1]["gateway_enter"] - c["gateway_exit"])
    return {k: median(v) * 1000 if v else nan for k, v in parts.items()}


def enqueue_cpu(rounds: int, per_round: int = 200) -> dict[str, float]:
    """CPU ms per enqueue in this process: before = the marker's SET then ``execute_run.apply_async`` (what
    ``enqueue_run`` did before runs/dispatch.py), after = ``send_run``; alternating, median of the rounds.
    Messages go to a queue no worker reads, deleted afterwards."""
    import uuid

    from django.conf import settings
    from django.test import override_settings

    from backend.config.redis_clients import sync_redis
    from backend.runs.dispatch import send_run
    from backend.runs.liveness import enqueued_key
    from backend.runs.tasks import execute_run

    queue = f"patchbay-hop-enqueue-{os.getpid()}"

    def before(run_id: str) -> None:
        sync_redis().set(enqueued_key(run_id), "1", ex=settings.PATCHBAY_QUEUED_GIVE_UP_SECONDS)
        execute_run.apply_async((run_id,), queue=queue)

    ids: list[str] = []
    spent: dict[str, list[float]] = {"before": [], "after": []}
    with override_settings(CELERY_TASK_DEFAULT_QUEUE=queue):
        for _ in range(rounds + 1):  # the first round warms both and is not counted
            for tag, send in (("before", before), ("after", send_run)):
                batch = [str(uuid.uuid4()) for _ in range(per_round)]
                ids += batch
                started = time.process_time()
                for run_id in batch:
                    send(run_id)
                spent[tag].append((time.process_time() - started) * 1000 / per_round)
    client = sync_redis()
    client.delete(queue, f"_kombu.binding.{queue}", *[enqueued_key(i) for i in ids])
    return {tag: median(values[1:]) for tag, values in spent.items()}


def med(rows: list[dict[str, float]], key: str) -> float:
    values = [r[key] for r in rows if r[key] == r[key]]
    return median(values) if values else nan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=30, help="sync calls per flow and tree per round")
    parser.add_argument("--before", type=Path, help="another checkout served first (the baseline)")
    parser.add_argument("--rounds", type=int, default=1, help="before/after alternations")
    parser.add_argument("--write", action="store_true", help="write the section to bench/results.md")
    args = parser.parse_args()

    bench_environment()
    fake = TimedFake()
    try:
        key = setup_fixtures(fake.url)
        probe_dir = tempfile.mkdtemp(prefix="patchbay-hop-probe-")
        (Path(probe_dir) / "sitecustomize.py").write_text(PROBE)
        trees = [("before", args.before), ("after", ROOT)] if args.before else [("after", ROOT)]
        results: dict[tuple[str, str], list[dict[str, float]]] = defaultdict(list)
        load = os.getloadavg()
        for round_no in range(args.rounds):
            for tag, code in trees:
                log(f"round {round_no + 1}: {tag} ({code})")
                stack = Stack(code, f"{tag}{round_no}", probe_dir)
                try:
                    wait_healthy(stack)  # type: ignore[arg-type]  # it reads .url and .children() of any stack
                    for shape in ("chain3", "fanout3"):  # warm: models loaded, pools and caches filled
                        calls(stack.url, key, shape, 5, f"warm-{tag}")
                    for shape in ("chain3", "fanout3"):
                        cpu_before = stack.cpu_seconds()
                        done = calls(stack.url, key, shape, args.calls, f"{tag}{round_no}-{shape}")
                        cpu = {k: (v - cpu_before[k]) * 1000 / len(done) for k, v in stack.cpu_seconds().items()}
                        rows = timelines(stack, fake, done)
                        for row in rows:  # the level's mean, on every row: the median of the rows is the mean
                            row["web CPU ms per run (mean)"], row["worker CPU ms per run (mean)"] = cpu["web"], cpu["worker"]
                        results[(tag, shape)] += rows
                except BaseException:
                    for child in stack.processes:
                        print(f"--- {child.name} ---\n{child.tail()}", file=sys.stderr)
                    raise
                finally:
                    stack.stop()
    finally:
        fake.stop()

    enqueue = enqueue_cpu(max(3, 2 * args.rounds))
    sections = [table(["web CPU ms per enqueue (in process, 200 × alternating rounds)", "before", "after"],
                      [["SET marker + apply_async → MULTI(SET, LPUSH)", f"{enqueue['before']:.3f}",
                        f"{enqueue['after']:.3f}"]])]
    for shape in ("chain3", "fanout3"):
        keys = list(results[(trees[0][0], shape)][0])
        rows = [[k, *[f"{med(results[(tag, shape)], k):.1f}" for tag, _ in trees]] for k in keys]
        sections.append(f"**{shape}** (median ms over {len(results[(trees[-1][0], shape)])} calls per tree)\n\n"
                        + table(["interval", *[tag for tag, _ in trees]], rows))
    where = machine().split(", load average")[0]  # machine() reads the load now, i.e. at the end
    body = INTRO + "\n\n" + (f"Conditions: {where}; {today()}; load average at the start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
            f"at the end {os.getloadavg()[0]:.2f}; {args.rounds} round(s), trees alternating.\n\n"
            + "\n\n".join(sections))
    print(body)
    if args.write:
        write_section("hop_timeline", body)


if __name__ == "__main__":
    main()
