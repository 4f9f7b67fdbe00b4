/** One eval run: live progress, then the numbers with their intervals and every item's answer and scores. */
import { useEffect, useState } from "react";
import { errorText } from "../api/client";
import { type EvalRun, getEval, listEvals } from "../api/evals";
import { duration, money, pretty } from "../format";
import { navigate } from "../router";
import { candidateWords } from "./candidateWords";
import { interval, percent } from "./scorerChoices";
import { useEvalProgress } from "./useEvalProgress";

function ProgressBar({ done, total }: { done: number; total: number }) {
  const share = total ? Math.round((done / total) * 100) : 0;
  return (
    <div className="eval-progress" data-testid="eval-progress" aria-label={`${done} of ${total} scored`}>
      <div className="eval-progress-bar" style={{ width: `${share}%` }} />
      <span className="small" data-testid="eval-progress-text">{done} of {total} items scored</span>
    </div>
  );
}

function Summary({ run }: { run: EvalRun }) {
  const s = run.summary;
  if (!s) return null;
  return (
    <div className="eval-summary" data-testid="eval-summary">
      <div><b data-testid="eval-pass-rate">{percent(s.pass_rate.value)}</b> passed every check <span className="muted small">{interval(s.pass_rate.low, s.pass_rate.high)}</span></div>
      <div>Total cost <b>{money(s.cost_usd.total)}</b> · typical time <b>{duration(s.latency_ms.p50)}</b> · slowest 5 % above <b>{duration(s.latency_ms.p95)}</b></div>
      <ul className="small">
        {Object.entries(s.scorers).map(([name, m]) => (
          <li key={name} data-testid={`eval-scorer-${name}`}>{name}: average {m.mean === null ? "–" : m.mean.toFixed(2)} <span className="muted">{interval(m.low, m.high, false)}</span>, passed {percent(m.pass_rate.value)}</li>
        ))}
      </ul>
    </div>
  );
}

function ItemsTable({ run }: { run: EvalRun }) {
  const items = run.item_list ?? [];
  return (
    <table className="table" data-testid="eval-items">
      <thead><tr><th>#</th><th>Input</th><th>Answer</th><th>Checks</th><th>Cost</th><th>Time</th><th /></tr></thead>
      <tbody>
        {items.map((i) => (
          <tr key={i.position} data-testid="eval-item" className={i.passed === false ? "row-failed" : ""}>
            <td>{i.position + 1}</td>
            <td><pre className="cell-json">{pretty(i.input)}</pre></td>
            <td><pre className="cell-json">{!i.scored ? "Waiting for the answer…" : i.error ? `Failed: ${i.error}` : pretty(i.output)}</pre></td>
            <td className="small">{Object.entries(i.scores).map(([n, sc]) => <div key={n} title={sc.comment}>{sc.passed ? "✓" : "✗"} {n} {sc.data_type === "NUMERIC" ? sc.value.toFixed(2) : ""}</div>)}</td>
            <td>{i.scored ? money(i.cost_usd) : ""}</td>
            <td>{i.scored ? duration(i.latency_ms) : ""}</td>
            <td><a href={i.trace} onClick={(e) => { e.preventDefault(); navigate(i.trace); }} data-testid="eval-item-trace">Trace</a></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function CompareWith({ run }: { run: EvalRun }) {
  const [others, setOthers] = useState<EvalRun[]>([]);
  useEffect(() => { listEvals().then((all) => setOthers(all.filter((e) => e.dataset === run.dataset && e.id !== run.id && e.status === "succeeded")), () => undefined); }, [run.id, run.dataset]);
  if (!others.length) return null;
  return (
    <select aria-label="Compare with" value="" onChange={(e) => navigate(`/evals/${e.target.value}/compare/${run.id}`)} data-testid="eval-compare-with">
      <option value="">Compare with an earlier eval…</option>
      {others.map((o) => <option key={o.id} value={o.id}>{o.graph_name} v{o.version}{o.candidate ? ` ${candidateWords(o.candidate)}` : ""} · {percent(o.summary?.pass_rate.value)}</option>)}
    </select>
  );
}

export function EvalResult({ id }: { id: string }) {
  const [run, setRun] = useState<EvalRun | null>(null);
  const [error, setError] = useState("");
  const progress = useEvalProgress(id, run?.status === "running");
  // Re-read the rows as items are scored (at most twice a second, however fast the snapshots come).
  useEffect(() => {
    const timer = window.setTimeout(() => getEval(id).then(setRun, (e) => setError(errorText(e))), progress ? 500 : 0);
    return () => window.clearTimeout(timer);
  }, [id, progress?.status, progress?.done]);
  if (error) return <div className="notice notice-error" role="alert">{error}</div>;
  if (!run) return <p className="muted">Loading…</p>;
  const done = progress?.done ?? run.done;
  return (
    <section data-testid="eval-result" data-status={progress?.status ?? run.status}>
      <a href="/evals" onClick={(e) => { e.preventDefault(); navigate("/evals"); }} className="small">← All evals</a>
      <div className="row between">
        <h1>{run.graph_name} v{run.version}{run.candidate ? ` ${candidateWords(run.candidate)}` : ""} on {run.dataset_name}</h1>
        <CompareWith run={run} />
      </div>
      {run.status === "running" && <ProgressBar done={done} total={run.total} />}
      <Summary run={run} />
      <ItemsTable run={run} />
    </section>
  );
}
