import { useMemo } from "react";
import type { SpanRecord } from "../api/types";
import { epochSeconds } from "../live/runState";
import { duration, money, pretty, STATUS_WORDS } from "../format";
import { useRun } from "../stores/runStore";
import { LabelPanel } from "../insights/LabelPanel";
import { FINISHED } from "../live/runState";
import { AddToDataset } from "./AddToDataset";
import { ReplayFromHere } from "./replay/ReplayFromHere";

interface Row {
  span: SpanRecord;
  depth: number;
  start: number;
  end: number | null;
}

/** Spans in tree order (children under their parent), each with its place on the time axis. */
function rows(spans: SpanRecord[]): { rows: Row[]; t0: number; t1: number } {
  const children = new Map<string | null, SpanRecord[]>();
  const ids = new Set(spans.map((s) => s.span_id));
  for (const s of spans) {
    const parent = s.parent_id && ids.has(s.parent_id) ? s.parent_id : null;
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const out: Row[] = [];
  const visit = (parent: string | null, depth: number) => {
    const list = (children.get(parent) ?? []).slice().sort((a, b) => (epochSeconds(a.started_at) ?? 0) - (epochSeconds(b.started_at) ?? 0));
    for (const s of list) {
      out.push({ span: s, depth, start: epochSeconds(s.started_at) ?? 0, end: epochSeconds(s.ended_at) });
      visit(s.span_id, depth + 1);
    }
  };
  visit(null, 0);
  const t0 = Math.min(...out.map((r) => r.start));
  const now = Date.now() / 1000;
  const t1 = Math.max(...out.map((r) => r.end ?? now), t0 + 0.001);
  return { rows: out, t0, t1 };
}

export function TraceView({ selected, onSelect, onClose }: { selected: string | null; onSelect: (spanId: string) => void; onClose: () => void }) {
  const spans = useRun((s) => s.spans);
  const runId = useRun((s) => s.runId);
  const status = useRun((s) => s.status);
  const pruned = useRun((s) => s.detailsPruned);
  const { rows: list, t0, t1 } = useMemo(() => (spans.length ? rows(spans) : { rows: [], t0: 0, t1: 1 }), [spans]);
  const span = spans.find((s) => s.span_id === selected) ?? null;
  const total = t1 - t0;
  return (
    <section className="trace" data-testid="trace-view">
      <div className="trace-head">
        <h2>Trace</h2>
        <span className="muted small">run {runId?.slice(0, 8)} · {STATUS_WORDS[status ?? ""] ?? status} · {list.length} spans · {duration(total * 1000)}</span>
        <span className="grow" />
        {runId && status && ["succeeded", "failed", "budget_exceeded", "cancelled"].includes(status) && <AddToDataset runId={runId} />}
        <span className="legend small"><i className="bar-node" /> step <i className="bar-llm" /> model call</span>
        <button className="icon-btn" aria-label="Close the trace" onClick={onClose}>×</button>
      </div>
      {pruned && (
        <p className="muted small" data-testid="trace-pruned">
          This run's details (its step-by-step events, prompts and answers) were pruned by the workspace's retention
          policy; its status, output and totals are kept.
        </p>
      )}
      <div className="trace-body">
        <div className="gantt" data-testid="gantt">
          <div className="gantt-axis">
            {[0, 0.5, 1].map((f) => <span key={f} style={{ left: `${f * 100}%` }}>{duration(f * total * 1000)}</span>)}
          </div>
          {list.length === 0 && <p className="muted small">No span yet: they appear as the run goes.</p>}
          {list.map((r) => {
            const left = ((r.start - t0) / total) * 100;
            const width = Math.max(0.4, (((r.end ?? Date.now() / 1000) - r.start) / total) * 100);
            const s = r.span;
            return (
              <button key={s.span_id} className={`gantt-row ${selected === s.span_id ? "selected" : ""}`} onClick={() => onSelect(s.span_id)}
                data-testid={`span-${s.kind}-${s.node_id ?? s.name}`}>
                <span className="gantt-label" style={{ paddingLeft: 8 + r.depth * 14 }}>
                  {s.kind === "llm" ? "↳ " : ""}{s.kind === "node" ? s.node_id : s.name}
                  {s.kind === "llm" && s.model ? <span className="muted small"> {s.model}</span> : null}
                  {s.kind === "llm" && s.cache_hit ? <span className="cached-tag small" data-testid="span-cached"> cached</span> : null}
                </span>
                <span className="gantt-track">
                  <span className={`gantt-bar bar-${s.kind} bar-${s.status}${s.cache_hit ? " bar-cached" : ""}`} style={{ left: `${left}%`, width: `${Math.min(width, 100 - left)}%` }}
                    title={`${duration(s.duration_ms)} · ${STATUS_WORDS[s.status] ?? s.status}`} />
                </span>
                <span className="gantt-dur small">{s.status === "skipped" ? "skipped" : duration(s.duration_ms)}</span>
              </button>
            );
          })}
        </div>
        <div className="span-detail" data-testid="span-detail">
          {span ? <SpanDetail span={span} spans={spans} /> : <p className="muted">Pick a bar (or a step on the canvas) to see what it did: the prompt it sent, what came back, what it cost.</p>}
        </div>
      </div>
    </section>
  );
}

const KNOWN_ATTRS = new Set(["patchbay.port", "patchbay.attempts", "error.type", "patchbay.skip_reason", "patchbay.seeded"]);

/** What a cache hit saved, from the original call stored with the answer (engine/runtime.py). */
function cacheFact(attributes: Record<string, unknown> | undefined): string {
  const cost = attributes?.["patchbay.cache.saved_cost_usd"];
  const ms = attributes?.["patchbay.cache.saved_ms"];
  const saved = typeof cost === "number" ? ` · saved ${money(cost)}${typeof ms === "number" ? ` and ${duration(ms)}` : ""}` : "";
  return `answered from the cache (no model call)${saved}`;
}

function Facts({ span }: { span: SpanRecord }) {
  const attempts = span.attributes?.["patchbay.attempts"];
  const facts: [string, string][] = [
    ["Status", STATUS_WORDS[span.status] ?? span.status],
    ["Time", duration(span.duration_ms)],
  ];
  if (span.model) facts.push(["Model", span.model]);
  if (span.input_tokens || span.output_tokens) facts.push(["Tokens", `${span.input_tokens} in · ${span.output_tokens} out`]);
  if (span.cost_usd || span.kind === "llm") facts.push(["Cost", money(span.cost_usd)]);
  if (span.cache_hit) facts.push(["Cache", cacheFact(span.attributes)]);
  if (span.attributes?.["patchbay.seeded"]) facts.push(["Replayed", "stored output of the original run (not run again)"]);
  if (typeof attempts === "number") facts.push(["Attempts", String(attempts)]);
  const port = span.attributes?.["patchbay.port"];
  if (typeof port === "string") facts.push(["Went to", port]);
  const skip = span.attributes?.["patchbay.skip_reason"];
  if (typeof skip === "string") facts.push(["Why skipped", skip]);
  const fellBack = span.attributes?.["patchbay.fallback_reason"]; // disabled | circuit_open | error (providers/gateway.py)
  if (typeof fellBack === "string") facts.push(["Answered by a fallback", `${String(span.attributes?.["patchbay.fallback_from"] ?? "")} ${({ disabled: "is switched off", circuit_open: "has its circuit open", error: "failed" } as Record<string, string>)[fellBack] ?? fellBack}`]);
  return (
    <dl className="facts">
      {facts.map(([k, v]) => <div key={k}><dt>{k}</dt><dd>{v}</dd></div>)}
    </dl>
  );
}

function Messages({ messages }: { messages: { role: string; content: unknown }[] }) {
  return (
    <div className="messages" data-testid="rendered-prompt">
      {messages.map((m, i) => (
        <div key={i} className={`message message-${m.role}`}>
          <div className="message-role">{m.role}</div>
          <pre>{typeof m.content === "string" ? m.content : pretty(m.content)}</pre>
        </div>
      ))}
    </div>
  );
}

/** Pattern facts (router label and confidence, vote agreement, plan, iterations...): every attribute the node recorded. */
function PatternFacts({ attributes }: { attributes: Record<string, unknown> }) {
  const entries = Object.entries(attributes ?? {}).filter(([k]) => !KNOWN_ATTRS.has(k) && !k.startsWith("gen_ai."));
  if (!entries.length) return null;
  return (
    <>
      <h4>What this step recorded</h4>
      <dl className="facts">
        {entries.map(([k, v]) => (
          <div key={k}><dt>{k.replace(/^patchbay\./, "").replace(/[._]/g, " ")}</dt><dd>{typeof v === "object" ? <pre>{pretty(v)}</pre> : String(v)}</dd></div>
        ))}
      </dl>
    </>
  );
}

/** Labels go on a finished run's top-level steps (a subgraph's inner steps are labelled through the subgraph). */
function Labelling({ span }: { span: SpanRecord }) {
  const runId = useRun((s) => s.runId);
  const status = useRun((s) => s.status);
  if (span.kind !== "node" || !span.node_id || span.node_id.includes("/") || !runId || !status || !FINISHED.includes(status)) return null;
  return <LabelPanel key={`${runId}-${span.node_id}`} runId={runId} span={span} />;
}

function SpanDetail({ span, spans }: { span: SpanRecord; spans: SpanRecord[] }) {
  const calls = span.kind === "node" ? spans.filter((s) => s.parent_id === span.span_id && s.kind === "llm") : [];
  const messages = (s: SpanRecord) => {
    const input = s.input as { messages?: { role: string; content: unknown }[] } | null;
    return Array.isArray(input?.messages) ? input!.messages : null;
  };
  return (
    <div>
      <h3>{span.kind === "node" ? span.node_id : span.name} <span className="muted small">{span.kind === "llm" ? "model call" : span.node_type}</span></h3>
      <Facts span={span} />
      <ReplayFromHere key={span.span_id} span={span} />
      <Labelling span={span} />
      {span.error && <div className="notice notice-error" data-testid="span-error">{span.error}</div>}
      {messages(span) && (<><h4>Prompt sent</h4><Messages messages={messages(span)!} /></>)}
      {calls.map((c) => messages(c) && (
        <div key={c.span_id}><h4>Prompt sent {c.model ? <span className="muted small">to {c.model}</span> : null}</h4><Messages messages={messages(c)!} /></div>
      ))}
      {span.output !== null && span.output !== undefined && (
        <>
          <h4>Output</h4>
          <pre className="output" data-testid="span-output">{pretty(span.output)}</pre>
        </>
      )}
      {span.input !== null && span.input !== undefined && !messages(span) && (
        <>
          <h4>Input</h4>
          <pre className="output">{pretty(span.input)}</pre>
        </>
      )}
      <PatternFacts attributes={span.attributes} />
    </div>
  );
}
