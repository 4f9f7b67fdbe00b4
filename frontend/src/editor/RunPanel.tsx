import { useEffect, useMemo, useState } from "react";
import { type Json, type JsonSchema } from "../graph-core";
import { duration, money, STATUS_WORDS, tokens } from "../format";
import { budgetReason } from "../live/budgetWords";
import { cacheWords, canvasStepCounts, elapsedMs, inputPreview } from "../live/runFigures";
import { useGraph } from "../stores/graphStore";
import { useEditorUi } from "../stores/editorUi";
import { useRun } from "../stores/runStore";
import { inputExamples, inputFields } from "./runInput";
import { RunResult } from "./RunResult";
import { runFromForm } from "./session/running";
import { WaitingNotice } from "./WaitingNotice";

/** One field of the run form, by the type its schema gives. */
function RunInputField({ name, schema, required }: { name: string; schema: JsonSchema; required: boolean }) {
  const v = useEditorUi((s) => s.runValues[name]);
  const t = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  const set = (x: Json | undefined) => {
    const next = { ...useEditorUi.getState().runValues };
    if (x === undefined) delete next[name];
    else next[name] = x;
    useEditorUi.getState().set({ runValues: next });
  };
  return (
    <label className="field">
      <span className="field-label">{schema.title ?? name}{required && <span className="req"> *</span>}</span>
      {schema.enum ? (
        <select value={v === undefined ? "" : String(v)} onChange={(e) => set(e.target.value || undefined)} data-testid={`run-input-${name}`}>
          <option value="">Choose…</option>
          {schema.enum.map((o) => <option key={String(o)} value={String(o)}>{String(o)}</option>)}
        </select>
      ) : t === "boolean" ? (
        <input type="checkbox" checked={v === true} onChange={(e) => set(e.target.checked)} data-testid={`run-input-${name}`} />
      ) : t === "number" || t === "integer" ? (
        <input inputMode="decimal" value={v === undefined ? "" : String(v)} data-testid={`run-input-${name}`}
          onChange={(e) => set(e.target.value === "" ? undefined : Number(e.target.value))} />
      ) : t === "string" ? (
        <textarea rows={4} value={(v as string) ?? ""} data-testid={`run-input-${name}`} onChange={(e) => set(e.target.value)} />
      ) : (
        <textarea className="mono" rows={4} value={v === undefined ? "" : JSON.stringify(v)} data-testid={`run-input-${name}`}
          onChange={(e) => { try { set(JSON.parse(e.target.value) as Json); } catch { set(e.target.value); } }} />
      )}
      {schema.description && <span className="muted small">{schema.description}</span>}
    </label>
  );
}

/** The flow's example inputs (inputs.examples): pick one and it fills the form. */
function UseExample() {
  const inputs = useGraph((s) => s.meta.inputs);
  const examples = inputExamples(inputs);
  const [picked, setPicked] = useState(0);
  if (!examples.length) return null;
  const use = () => {
    const example = examples[Math.min(picked, examples.length - 1)];
    const named = inputFields(inputs) && example && typeof example === "object" && !Array.isArray(example);
    useEditorUi.getState().set(named ? { runValues: { ...(example as Record<string, Json>) }, runError: null }
      : { runRaw: JSON.stringify(example, null, 2), runError: null });
  };
  return (
    <div className="examples">
      {examples.length > 1 && (
        <select value={picked} onChange={(e) => setPicked(Number(e.target.value))} aria-label="Example input" data-testid="run-example-pick">
          {examples.map((ex, i) => <option key={i} value={i}>Example {i + 1}: {inputPreview(ex, 48)}</option>)}
        </select>
      )}
      <button type="button" className="btn btn-small" onClick={use} data-testid="run-use-example">Use example</button>
    </div>
  );
}

/** "Run fresh": skip cached answers for the next run (what it gets back still refreshes the cache). */
function RunFreshBox() {
  const fresh = useEditorUi((s) => s.runFresh);
  return (
    <label className="checkbox small" title="Every model call is made again; its answers still refresh the cache">
      <input type="checkbox" checked={fresh} onChange={(e) => useEditorUi.getState().set({ runFresh: e.target.checked })} data-testid="run-fresh" />
      Run fresh (skip cache)
    </label>
  );
}

/** The run form, generated from the flow's input schema; what it holds lives in editorUi, so Ctrl+Enter runs it from anywhere. */
export function RunForm({ graphKey, busy }: { graphKey: string; busy: boolean }) {
  const inputs = useGraph((s) => s.meta.inputs);
  const props = inputFields(inputs);
  const required = new Set((inputs as JsonSchema | undefined)?.required ?? []);
  const raw = useEditorUi((s) => s.runRaw);
  const error = useEditorUi((s) => s.runError);
  return (
    <>
    <RunResult />
    <form className="run-form" data-testid="run-form" onSubmit={(e) => { e.preventDefault(); runFromForm(graphKey); }}>
      <h2>Run this flow</h2>
      <UseExample />
      {props ? (
        Object.entries(props).map(([name, schema]) => <RunInputField key={name} name={name} schema={schema} required={required.has(name)} />)
      ) : (
        <label className="field">
          <span className="field-label">Input (JSON)</span>
          <textarea className="mono" rows={6} value={raw} onChange={(e) => useEditorUi.getState().set({ runRaw: e.target.value })} data-testid="run-input-json" />
        </label>
      )}
      {error && <div className="form-error">{error}</div>}
      <RunFreshBox />
      <button className="btn btn-primary wide" type="submit" disabled={busy} data-testid="run-start">{busy ? "Starting…" : "▶ Run"}</button>
      <p className="muted small">A run uses the saved flow; unsaved changes are saved first. Ctrl+Enter runs from anywhere.</p>
    </form>
    </>
  );
}

function useNow(active: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const t = window.setInterval(() => setNow(Date.now()), 200);
    return () => window.clearInterval(t);
  }, [active]);
  return now;
}

/** Total cost, time and budget of the run being watched, with Stop. */
export function RunHeader({ onStop, onTrace, onClose, traceOpen }: { onStop: () => void; onTrace: () => void; onClose: () => void; traceOpen: boolean }) {
  const run = useRun();
  const live = run.status === "running" || run.status === "queued";
  const now = useNow(live);
  const elapsed = elapsedMs(run, now);
  const cost = run.totals?.cost_usd ?? run.liveCost;
  const calls = run.totals?.llm_calls ?? run.liveCalls;
  const toks = run.totals ? run.totals.input_tokens + run.totals.output_tokens : run.liveTokens;
  const budget = run.budget ?? {};
  const pct = (v: number, max?: number) => (max ? ` of ${max} (${Math.min(999, Math.round((v / max) * 100))}%)` : "");
  const canvasIds = useGraph((s) => s.nodes.map((n) => n.id).join("\u0000"));
  const counts = useMemo(() => canvasStepCounts(run.nodes, canvasIds.split("\u0000")), [run.nodes, canvasIds]);
  const cached = cacheWords(run.totals);
  if (!run.runId) return null;
  return (
    <>
    <div className={`run-header run-header-${run.status}`} data-testid="run-header" data-status={run.status ?? ""}>
      <span className={`pill pill-${run.status}`} data-testid="run-status">{STATUS_WORDS[run.status ?? ""] ?? run.status}</span>
      {run.release !== null && <span className="muted small" data-testid="run-release" title="The release this run ran">release {run.release}</span>}
      <span title="Time"><b>{duration(elapsed)}</b>{budget.max_seconds ? <span className="muted"> / {budget.max_seconds} s</span> : null}</span>
      <span title="Cost" data-testid="run-cost"><b>{money(cost)}</b>{budget.max_cost_usd ? <span className="muted">{pct(cost, budget.max_cost_usd).replace(/^ of (\S+)/, " of $$$1")}</span> : null}</span>
      <span title="Model calls">{calls} call{calls === 1 ? "" : "s"}{budget.max_llm_calls ? <span className="muted">{pct(calls, budget.max_llm_calls)}</span> : null}</span>
      <span className="muted">{tokens(toks)}</span>
      {cached && <span className="cached-note" data-testid="run-cache" title={`Answers served from the cache; they saved ${duration(run.totals?.saved_ms ?? 0)} of model time`}>{cached}</span>}
      <span className="muted small counts">{Object.entries(counts).map(([k, v]) => `${v} ${(STATUS_WORDS[k] ?? k).toLowerCase()}`).join(" · ")}</span>
      {run.socketState === "reconnecting" && <span className="warn small" data-testid="reconnecting">Connection lost: reconnecting…</span>}
      {run.socketState === "refused" && <span className="warn small">{run.socketDetail}</span>}
      <span className="grow" />
      {(live || run.status === "waiting") && <button className="btn btn-danger" onClick={onStop} data-testid="run-stop">■ Stop</button>}
      <button className={`btn ${traceOpen ? "btn-active" : ""}`} onClick={onTrace} data-testid="open-trace">Trace</button>
      <button className="icon-btn" aria-label="Close the run view" title="Back to editing" onClick={onClose}>×</button>
    </div>
    {run.status === "waiting" && <WaitingNotice runId={run.runId} lastSeq={run.lastSeq} />}
    {run.error && !live && <div className="run-error" data-testid="run-error" title={run.error}>{budgetReason(run.error) ?? run.error}</div>}
    </>
  );
}
