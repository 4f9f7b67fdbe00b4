/** Before spending money: dry-run the inputs of the graph's recent runs (or of a dataset's items) on demo
 * answers priced as the real models, and read what 1,000 runs would cost and take. */
import { useEffect, useState } from "react";
import { errorText } from "../api/client";
import { listDatasets, type Dataset } from "../api/evals";
import { duration, money } from "../format";
import { getProjection, startProjection, type Projection } from "./api";
import { percent } from "./numbers";
import { projectionBody, sourceOptions, sourceWords, type SourceChoice } from "./projectionSource";

const POLL_MS = 500;

function useProjection() {
  const [projection, setProjection] = useState<Projection | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!projection || projection.status === "succeeded" || projection.status === "failed") return;
    const timer = setTimeout(() => getProjection(projection.id).then(setProjection, (e) => setError(errorText(e))), POLL_MS);
    return () => clearTimeout(timer);
  }, [projection]);
  return { projection, error, setProjection, setError };
}

function useDatasets(): Dataset[] {
  const [datasets, setDatasets] = useState<Dataset[]>([]);
  useEffect(() => { listDatasets().then(setDatasets, () => setDatasets([])); }, []); // none: recent runs only
  return datasets;
}

export function ProjectionPanel({ graphId }: { graphId: number }) {
  const { projection, error, setProjection, setError } = useProjection();
  const datasets = useDatasets();
  const [choice, setChoice] = useState<SourceChoice>("recent");
  const start = () => {
    setError(null);
    startProjection(graphId, projectionBody(choice)).then(setProjection, (e) => setError(errorText(e)));
  };
  const busy = projection?.status === "queued" || projection?.status === "running";
  const result = projection?.result;
  return (
    <section className="insight-card wide" data-testid="projection-panel">
      <h3>Cost projection</h3>
      <p className="muted small">Runs the latest version on {sourceWords(choice, datasets)} with demo answers priced as your real models: no model is called and nothing is spent.</p>
      <label className="field projection-source"><span>Inputs from</span>
        <select value={choice} onChange={(e) => setChoice(e.target.value)} data-testid="projection-source">
          {sourceOptions(datasets).map((o) => <option key={o.value} value={o.value} disabled={o.disabled}>{o.label}</option>)}
        </select>
      </label>
      <button className="btn" onClick={start} disabled={busy} data-testid="projection-start">{busy ? "Projecting…" : "Project 1,000 runs"}</button>
      {error && <div className="notice notice-error" role="alert">{error}</div>}
      {projection?.status === "failed" && <div className="notice notice-error">{projection.error}</div>}
      {result && (
        <div className="headline" data-testid="projection-result">
          <div className="headline-fact"><span className="big-number" data-testid="projection-cost">{money(result.cost_per_1000_runs_usd)}</span><span className="muted small">per 1,000 runs</span></div>
          <div className="headline-fact"><span className="big-number">{duration(result.p50_latency_ms)}</span><span className="muted small">median run time ({duration(result.p95_latency_ms)} for 95 %)</span></div>
          <div className="headline-fact"><span className="big-number" data-testid="projection-runs">{result.runs}</span><span className="muted small">inputs tried{result.failed ? `, ${result.failed} would fail: ${result.first_error}` : ""}</span></div>
          <div className="headline-fact small">{result.steps.slice(0, 3).map((s) => <div key={s.node_id}>{s.node_id}: {percent(s.cost_share)} of the cost</div>)}</div>
        </div>
      )}
    </section>
  );
}
