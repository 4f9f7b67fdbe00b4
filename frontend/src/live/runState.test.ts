import { describe, expect, it } from "vitest";
import type { RunRecord, SpanRecord } from "../api/types";
import { applyEvents, emptyRun, stateFromRecord, type RunEvent } from "./runState";

const span = (node: string, extra: Partial<SpanRecord> = {}): SpanRecord => ({
  span_id: `s-${node}`, parent_id: null, node_id: node, kind: "node", name: node, node_type: "llm", status: "succeeded",
  started_at: 100, ended_at: 100.25, duration_ms: 250, input: null, output: `out ${node}`, model: "demo/fast",
  input_tokens: 10, output_tokens: 5, cost_usd: 0.0001, cache_hit: false, error: null, attributes: {}, ...extra,
});

const events: RunEvent[] = [
  { type: "run.started", seq: 1, ts: 100, budget: { max_cost_usd: 0.05 } },
  { type: "node.started", seq: 2, ts: 100, node_id: "a", span_id: "s-a", node_type: "llm" },
  { type: "node.delta", seq: null, after_seq: 2, node_id: "a", text: "Hel" },
  { type: "node.delta", seq: null, after_seq: 2, node_id: "a", text: "lo" },
  { type: "span.completed", seq: 3, span: span("a", { span_id: "l-a", kind: "llm", parent_id: "s-a" }) },
  { type: "node.completed", seq: 4, node_id: "a", span: span("a") },
  { type: "node.skipped", seq: 5, node_id: "b", reason: "no incoming path was taken", span: span("b", { status: "skipped", output: null }) },
  { type: "run.completed", seq: 6, ts: 101, status: "succeeded", output: { ok: true }, totals: { input_tokens: 10, output_tokens: 5, cost_usd: 0.0001, llm_calls: 1, duration_ms: 1000 } },
];

describe("run state folded from events", () => {
  it("tracks each node's status, streamed text and badge numbers", () => {
    const s = applyEvents(emptyRun("r1", ["a", "b"]), events);
    expect(s.status).toBe("succeeded");
    expect(s.nodes.a).toMatchObject({ status: "succeeded", text: "Hello", latencyMs: 250, tokensIn: 10, tokensOut: 5, costUsd: 0.0001 });
    expect(s.nodes.b).toMatchObject({ status: "skipped", reason: "no incoming path was taken" });
    expect(s.lastSeq).toBe(6);
    expect(s.liveCost).toBeCloseTo(0.0001);
    expect(s.liveCalls).toBe(1);
    expect(s.spans.map((x) => x.span_id)).toEqual(["s-a", "l-a", "s-b"]);
  });

  it("restarts a node's streamed text when a retry streams the answer again", () => {
    const retried: RunEvent[] = [
      ...events.slice(0, 2),
      { type: "node.delta", seq: null, after_seq: 2, node_id: "a", span_id: "l-a", attempt: 1, text: "Half a sen" },
      { type: "node.delta", seq: null, after_seq: 2, node_id: "a", span_id: "l-a", attempt: 2, text: "Whole " },
      { type: "node.delta", seq: null, after_seq: 2, node_id: "a", span_id: "l-a", attempt: 1, text: "late" },
      { type: "node.delta", seq: null, after_seq: 2, node_id: "a", span_id: "l-a", attempt: 2, text: "answer." },
    ];
    expect(applyEvents(emptyRun("r1", ["a", "b"]), retried).nodes.a.text).toBe("Whole answer.");
  });

  it("ignores events it already has (a replay after reconnecting), so nothing counts twice", () => {
    const once = applyEvents(emptyRun("r1", ["a", "b"]), events.slice(0, 5));
    const replayed = applyEvents(once, events.slice(1)); // the server resends from after=2; the client had 3
    expect(replayed.liveCalls).toBe(1);
    expect(replayed).toEqual(applyEvents(emptyRun("r1", ["a", "b"]), events));
  });

  it("shows a node answered from the cache as cached", () => {
    const s = applyEvents(emptyRun("r1", ["a"]), [{ type: "node.completed", seq: 1, node_id: "a", span: span("a", { cache_hit: true }) }]);
    expect(s.nodes.a.status).toBe("cached");
  });

  it("knows when retention pruned a run's details: a late client gets only the marked final event", () => {
    const final = { ...events[events.length - 1], details_pruned: true };
    const s = applyEvents(emptyRun("r1", ["a", "b"]), [final]);
    expect(s.detailsPruned).toBe(true);
    expect(s.status).toBe("succeeded");
    expect(s.totals?.llm_calls).toBe(1);
    expect(applyEvents(emptyRun("r1", ["a"]), events).detailsPruned).toBe(false);
  });
});

describe("a run that waits for a person", () => {
  it("marks the asking step waiting, the run waiting, then running again after the decision", () => {
    const asking = span("review", { status: "waiting", node_type: "approval" });
    let s = applyEvents(emptyRun("r", ["review"]), [
      { type: "run.started", seq: 1 }, { type: "approval.requested", seq: 2, node_id: "review", span: asking },
      { type: "run.waiting", seq: 3 }]);
    expect(s.status).toBe("waiting");
    expect(s.nodes.review.status).toBe("waiting");
    s = applyEvents(s, [{ type: "run.resumed", seq: 4 }]);
    expect(s.status).toBe("running");
  });
});

describe("a run loaded from its record", () => {
  const record = (release: RunRecord["release"]) => ({
    id: "r1", status: "succeeded", totals: { cost_usd: 0, llm_calls: 0, input_tokens: 0, output_tokens: 0 }, budget: {},
    started_at: null, finished_at: null, spans: [], release,
  }) as unknown as RunRecord;

  it("keeps the number of the release it ran, for the run header", () => {
    expect(stateFromRecord(record({ id: 41, number: 3 }), []).release).toBe(3);
  });

  it("has no release when it ran a bare version", () => {
    expect(stateFromRecord(record(null), []).release).toBeNull();
    expect(stateFromRecord(record(undefined), []).release).toBeNull();
    expect(emptyRun("r2").release).toBeNull();
  });
});
