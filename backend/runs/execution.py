"""Load a queued run, give it to the engine with the real ports, and let the sink record it."""
from __future__ import annotations

import asyncio
import copy
import functools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from backend.config.compiled_query import CompiledQuery
from backend.engine import Resume, SeededStep, execute_graph, parse_graph
from backend.engine.ports import Cache, Ports, SystemClock, WriteOnlyCache
from backend.engine.runtime import PromptTemplate
from backend.engine.spec import Budget
from backend.graphs.models import GraphVersion, Workspace
from backend.graphs.selectors import dependencies
from backend.providers.gateway import LiteLLMGateway
from backend.providers.registry import resolve_route
from backend.releases.models import Release

from .cache import RedisCache
from .callers import request_id_of, with_callers
from .live_deltas import CALLED_SOURCES, deltas_wanted_check
from .liveness import keep_alive
from .loop import db_call
from .models import Run
from .replay_plan import replay_plan
from .resolved import resolved_for
from .resume_plan import resume_plan
from .sinks import TRANSIENT_ERRORS, RunEventSink, finish_run_outside_engine
from .trace_writes import run_cancel_requested, update_run

log = logging.getLogger(__name__)

CANCEL_RECHECK_S = 1.0  # how often a run asks an unreachable database whether it was stopped


@dataclass
class Claimed:
    spec: dict[str, Any]
    input: Any
    trace_id: str
    budget: dict[str, Any]
    workspace_id: int
    prompts: dict[str, PromptTemplate]
    subgraphs: dict[str, dict[str, Any]]
    fresh: bool = False
    source: str = "api"
    request_id: str = ""
    seeded: dict[str, SeededStep] = field(default_factory=dict)  # a replay from a node: steps not run again
    resume: Resume | None = None  # a run woken by a decision: where it stood when it stopped to wait


# The claim's SELECT: the run row with its caller's request id. Compiling it through the ORM (the annotation)
# cost more CPU than the rest of the claim: compiled once per process.
_RUN = CompiledQuery(lambda pk: with_callers(Run.objects.all()).filter(pk=pk), uuid.UUID(int=0))

# A claim whose guarded UPDATE found the run changed since it was read reads it again: the run was claimed,
# stopped or ended meanwhile (the next read says which), or woken again. More than this is never expected.
CLAIM_ATTEMPTS = 3


def _read_run(run_id: Any) -> Run | None:
    return next(iter(_RUN.models(uuid.UUID(str(run_id)))), None)


@functools.lru_cache(maxsize=512)
def _graph_version(pk: int) -> GraphVersion:
    return GraphVersion.objects.get(pk=pk)  # immutable: a worker keeps the versions it ran


@functools.lru_cache(maxsize=512)
def _release_prompts(pk: int) -> dict[str, str]:
    return dict(Release.objects.values_list("prompts", flat=True).get(pk=pk))  # immutable, like versions


def claim(run_id: Any) -> Claimed | None:
    """Move a queued run to running, once; any other delivery of the same run does nothing.

    A run may be delivered twice: the sweep enqueues again a queued run whose
    message a Redis restart lost, and Celery redelivers an unacked message. A
    run found running belongs to a live worker or to a dead one; the heartbeat
    sweep (liveness.py) is the one place that tells them apart and ends it.

    Two statements, each its own transaction (no BEGIN, no COMMIT, no row lock held while planning): the run
    row with the caller's request id (an annotation of the same SELECT), then status, start and ``resolved``
    written by an UPDATE guarded by ``status = 'queued' AND NOT cancel_requested``. That guard is what makes
    the claim exclusive: of two workers planning the same run, PostgreSQL lets one UPDATE move it and the other
    finds no row (it re-checks the row after the first commits) and reads the run again, finding it running. A
    cancel or an end that lands between the read and the write is never overwritten the same way. The graph
    version and release the run names are immutable, so each worker process reads them once
    (``_graph_version``), and model routes come from the registry's per-process cache (``route_now``).
    """
    for _ in range(CLAIM_ATTEMPTS):
        run = _read_run(run_id)
        if run is None or run.is_finished:
            return None
        if run.status == Run.Status.RUNNING:
            log.info("run %s delivered again while running: left to its worker and the heartbeat sweep", run_id)
            return None
        if run.status != Run.Status.QUEUED:
            return None  # waiting for a decision: its wake enqueues it again
        if run.cancel_requested:
            finish_run_outside_engine(run_id, Run.Status.CANCELLED, "the run was stopped before it started",
                                      expected=Run.Status.QUEUED)
            return None
        # A copy: the spec goes on to the engine, and the cached version must stay as stored.
        spec, seeded = replay_plan(run, copy.deepcopy(_graph_version(run.graph_version_id).spec))
        resume = resume_plan(run)
        # An endpoint call runs its release: the prompt versions it pinned, not where their labels point now.
        # The workspace only scopes the lookups: its id is all they read.
        deps = dependencies(Workspace(pk=run.workspace_id), spec,
                            _release_prompts(run.release_id) if run.release_id is not None else None)
        run.status, run.started_at = Run.Status.RUNNING, timezone.now()
        written: dict[str, Any] = {"status": run.status, "started_at": run.started_at}
        if resume is None:  # a resumed run keeps what it resolved when it first started
            run.resolved = written["resolved"] = resolved_for(spec, deps.subgraphs, deps.prompts)
        if update_run(run_id, written, statuses=[Run.Status.QUEUED], where={"cancel_requested": False}) == 1:
            return Claimed(spec=spec, input=run.input, trace_id=run.trace_id, budget=run.budget,
                           workspace_id=run.workspace_id, prompts=deps.prompts, subgraphs=deps.subgraphs,
                           fresh=run.fresh, source=run.source, seeded=seeded, resume=resume,
                           # the caller's request id (kept by its own record, runs/callers.py) marks a stream call
                           request_id=request_id_of(run) if run.source in CALLED_SOURCES else "")
    log.warning("run %s changed under %d claims in a row: left queued for the sweep", run_id, CLAIM_ATTEMPTS)
    return None


def cancel_requested(run_id: Any) -> bool:
    return run_cancel_requested(run_id)


async def execute_run_async(run_id: Any) -> None:
    try:
        claimed = await db_call(claim)(run_id)
    except TRANSIENT_ERRORS:
        raise  # the task retries: claiming is idempotent, and nothing was written
    except Exception as exc:  # a run that cannot even be planned ends failed, not queued until the give-up
        log.exception("run %s could not be started", run_id)
        await db_call(finish_run_outside_engine)(run_id, Run.Status.FAILED, f"internal error: {type(exc).__name__}",
                                                 expected=Run.Status.QUEUED)
        return
    if claimed is None:
        return
    # The heartbeat lasts until the run's last write: a sink waiting out a database restart belongs to a live
    # worker, and the sweep must not fail its run as lost meanwhile.
    heartbeat = asyncio.get_running_loop().create_task(keep_alive(run_id))
    try:
        failure = await _engine_then_sink(run_id, claimed)
        if failure:
            await db_call(finish_run_outside_engine)(run_id, Run.Status.FAILED, failure,
                                                     expected=Run.Status.RUNNING)
    finally:
        heartbeat.cancel()


def _cancel_check(run_id: Any) -> Callable[[], Awaitable[bool]]:
    """The engine's ``is_cancelled`` port for one run.

    A check that cannot read the database (a restart, a failover) answers "not
    cancelled" and asks again at a later step, at most every CANCEL_RECHECK_S
    while the database is away (the engine asks several times a second): the
    run goes on, and its writes wait for the database in the sink
    (STORE_RETRY_SECONDS).
    """
    check = db_call(cancel_requested)
    retry_at: float | None = None  # while the database is away: when to ask it again

    async def is_cancelled() -> bool:
        nonlocal retry_at
        now = time.monotonic()
        if retry_at is not None and now < retry_at:
            return False
        try:
            answer = await check(run_id)
        except TRANSIENT_ERRORS as exc:
            if retry_at is None:  # once per outage
                log.warning("run %s: cannot read whether it was stopped (%s); going on", run_id, exc)
            retry_at = now + CANCEL_RECHECK_S
            return False
        retry_at = None
        return answer

    return is_cancelled


async def _engine_then_sink(run_id: Any, claimed: Claimed) -> str | None:
    """Run the engine, then wait for every event to be stored; the failure to record if the engine broke."""
    sink = RunEventSink(run_id)
    cache: Cache = RedisCache(f"ws{claimed.workspace_id}")
    gateway = LiteLLMGateway(resolve_route, stream_when=deltas_wanted_check(run_id, claimed.source, claimed.request_id))
    ports = Ports(llm=gateway, events=sink, cache=WriteOnlyCache(cache) if claimed.fresh else cache,
                  clock=SystemClock(), is_cancelled=_cancel_check(run_id))
    failure = None
    try:
        engine = asyncio.ensure_future(execute_graph(
            parse_graph(claimed.spec), claimed.input, ports=ports, run_id=str(run_id), trace_id=claimed.trace_id,
            prompts=claimed.prompts, subgraphs=claimed.subgraphs, budget=Budget.from_dict(claimed.budget),
            seeded=claimed.seeded, resume=claimed.resume))
        sink.stops(engine)  # a run whose trace can no longer be stored is over: no model call after that
        await engine
    except asyncio.CancelledError:
        if not sink.stopped:  # cancelled from outside, not by the sink
            raise
    except Exception as exc:  # the engine ends runs itself; this is for its bugs, so no run stays "running"
        log.exception("engine error in run %s", run_id)
        failure = f"internal error: {type(exc).__name__}"
    finally:
        await sink.close()
    return failure
