/**
 * A run's state, folded from its events (pure: no React, no socket). Keyed by node id,
 * so a node component reads only its own entry.
 */
import type { RunRecord, RunStatus, RunTotals, SpanRecord } from "../api/types";

export type NodeStatus = "queued" | "running" | "waiting" | "succeeded" | "failed" | "skipped" | "cancelled" | "cached";

export interface NodeRun {
  status: NodeStatus;
  /** Tokens streamed so far (node.delta). */
  text: string;
  /** The provider attempt each model call (span id) is streaming; a higher one restarts the text. */
  deltaAttempts?: Record<string, number>;
  output?: unknown;
  error?: string | null;
  latencyMs?: number | null;
  tokensIn?: number;
  tokensOut?: number;
  costUsd?: number;
  model?: string | null;
  reason?: string;
  port?: string;
}

export interface RunState {
  runId: string | null;
  status: RunStatus | null;
  nodes: Record<string, NodeRun>;
  spans: SpanRecord[];
  lastSeq: number;
  totals: RunTotals | null;
  output: unknown;
  error: string | null;
  budget: Record<string, number>;
  /** Epoch ms when the run started (run.started ts), for the live clock. */
  startedAt: number | null;
  finishedAt: number | null;
  /** Running sums while the run goes (totals arrive only at the end). */
  liveCost: number;
  liveCalls: number;
  liveTokens: number;
  /** The workspace's retention policy dropped this run's events and prompt/answer bodies (totals kept). */
  detailsPruned: boolean;
  /** The release number the run ran, when it ran one (known once the run record is loaded). */
  release: number | null;
}

export interface RunEvent {
  type: string;
  seq: number | null;
  after_seq?: number;
  ts?: number;
  node_id?: string;
  span?: SpanRecord;
  text?: string;
  error?: string | null;
  status?: RunStatus;
  output?: unknown;
  totals?: RunTotals;
  budget?: Record<string, number>;
  reason?: string;
  [k: string]: unknown;
}

export const FINISHED: RunStatus[] = ["succeeded", "failed", "budget_exceeded", "cancelled"];

export function emptyRun(runId: string | null = null, nodeIds: string[] = []): RunState {
  return {
    runId, status: runId ? "queued" : null, nodes: Object.fromEntries(nodeIds.map((id) => [id, { status: "queued" as NodeStatus, text: "" }])),
    spans: [], lastSeq: 0, totals: null, output: undefined, error: null, budget: {}, startedAt: null, finishedAt: null,
    liveCost: 0, liveCalls: 0, liveTokens: 0, detailsPruned: false, release: null,
  };
}

function fromSpan(span: SpanRecord, previous: NodeRun | undefined, status: NodeStatus): NodeRun {
  return {
    ...(previous ?? { text: "" }),
    status: status === "succeeded" && span.cache_hit ? "cached" : status,
    output: span.output,
    error: span.error,
    latencyMs: span.duration_ms,
    tokensIn: span.input_tokens,
    tokensOut: span.output_tokens,
    costUsd: span.cost_usd,
    model: span.model,
    port: (span.attributes?.["patchbay.port"] as string | undefined) ?? previous?.port,
  };
}

function upsertSpan(spans: SpanRecord[], span: SpanRecord): SpanRecord[] {
  const i = spans.findIndex((s) => s.span_id === span.span_id);
  if (i < 0) return [...spans, span];
  const copy = spans.slice();
  copy[i] = span;
  return copy;
}

/** Fold a batch of events into the state (one new object per batch). */
export function applyEvents(state: RunState, events: RunEvent[]): RunState {
  let s = { ...state, nodes: { ...state.nodes } };
  for (const e of events) {
    if (e.seq !== null && e.seq !== undefined) {
      if (e.seq <= s.lastSeq) continue; // already applied (replay after a reconnect)
      s.lastSeq = e.seq;
    }
    const id = e.node_id;
    switch (e.type) {
      case "run.started":
        s.status = "running";
        s.budget = e.budget ?? {};
        s.startedAt = e.ts ? e.ts * 1000 : Date.now();
        break;
      case "node.started":
        if (id) s.nodes[id] = { ...(s.nodes[id] ?? { text: "" }), status: "running", text: "" };
        if (id && typeof e.span_id === "string") {
          s.spans = upsertSpan(s.spans, {
            span_id: e.span_id, parent_id: null, node_id: id, kind: "node", name: id, node_type: (e.node_type as string) ?? null,
            status: "running", started_at: e.ts ?? Date.now() / 1000, ended_at: null, duration_ms: null, input: null, output: null,
            model: null, input_tokens: 0, output_tokens: 0, cost_usd: 0, cache_hit: false, error: null, attributes: {},
          });
        }
        break;
      case "node.delta":
        // Deltas are live-only; one older than what we hold, or for a step already finished, is stale.
        if (id && typeof e.text === "string" && (e.after_seq ?? 0) >= s.lastSeq && (s.nodes[id]?.status ?? "running") === "running") {
          const prev = s.nodes[id] ?? { status: "running" as NodeStatus, text: "" };
          // A retry or fallback streams the answer again (attempt 2, 3...): what earlier attempts streamed is void.
          const spanId = typeof e.span_id === "string" ? e.span_id : "";
          const attempt = typeof e.attempt === "number" ? e.attempt : 1;
          const current = prev.deltaAttempts?.[spanId] ?? 1;
          if (attempt >= current) {
            const text = attempt > current ? e.text : prev.text + e.text;
            s.nodes[id] = { ...prev, text, deltaAttempts: { ...prev.deltaAttempts, [spanId]: attempt } };
          }
        }
        break;
      case "node.completed":
      case "node.failed":
      case "node.skipped":
      case "node.cancelled": {
        const status = e.type.split(".")[1] as NodeStatus;
        const mapped: NodeStatus = status === ("completed" as NodeStatus) ? "succeeded" : status;
        if (id && e.span) s.nodes[id] = { ...fromSpan(e.span, s.nodes[id], mapped), reason: e.reason, error: e.error ?? e.span.error };
        else if (id) s.nodes[id] = { ...(s.nodes[id] ?? { text: "" }), status: mapped, error: e.error };
        if (e.span) s.spans = upsertSpan(s.spans, e.span);
        break;
      }
      case "span.completed":
        if (e.span) {
          s.spans = upsertSpan(s.spans, e.span);
          if (e.span.kind === "llm") {
            s.liveCost += e.span.cost_usd || 0;
            s.liveTokens += (e.span.input_tokens || 0) + (e.span.output_tokens || 0);
            if (!e.span.cache_hit) s.liveCalls += 1;
          }
        }
        break;
      case "run.completed":
        s.status = e.status ?? "succeeded";
        s.output = e.output;
        s.error = e.error ?? null;
        s.totals = e.totals ?? null;
        s.finishedAt = e.ts ? e.ts * 1000 : Date.now();
        s.detailsPruned = e.details_pruned === true;
        break;
      default:
        applyWaitEvent(s, e);
        break;
    }
  }
  return s;
}

/** A person in the loop: a step asks (it waits), the run waits, a decision resumes it. */
function applyWaitEvent(s: RunState, e: RunEvent): void {
  if (e.type === "approval.requested" && e.span) {
    if (e.node_id) s.nodes[e.node_id] = fromSpan(e.span, s.nodes[e.node_id], "waiting");
    s.spans = upsertSpan(s.spans, e.span);
  } else if (e.type === "run.waiting") s.status = "waiting";
  else if (e.type === "run.resumed") s.status = "running";
}

/** The state of a finished (or running) run as loaded from GET /api/runs/<id>/. */
export function stateFromRecord(run: RunRecord, nodeIds: string[]): RunState {
  const s = emptyRun(run.id, nodeIds);
  s.status = run.status;
  s.totals = run.totals;
  s.output = run.output;
  s.error = run.error;
  s.budget = run.budget;
  s.startedAt = run.started_at ? Date.parse(run.started_at) : null;
  s.finishedAt = run.finished_at ? Date.parse(run.finished_at) : null;
  s.spans = run.spans ?? [];
  s.detailsPruned = run.details_pruned === true;
  s.release = run.release?.number ?? null;
  for (const span of s.spans) {
    if (span.kind !== "node" || !span.node_id) continue;
    const status = (["succeeded", "failed", "skipped", "cancelled", "running", "waiting"].includes(span.status))
      ? (span.status as NodeStatus) : "queued";
    s.nodes[span.node_id] = fromSpan(span, s.nodes[span.node_id], status);
  }
  s.liveCost = run.totals.cost_usd;
  s.liveCalls = run.totals.llm_calls;
  s.liveTokens = run.totals.input_tokens + run.totals.output_tokens;
  return s;
}

/** Seconds since the epoch, from an ISO string or a number. */
export function epochSeconds(v: string | number | null | undefined): number | null {
  if (v === null || v === undefined) return null;
  return typeof v === "number" ? v : Date.parse(v) / 1000;
}
