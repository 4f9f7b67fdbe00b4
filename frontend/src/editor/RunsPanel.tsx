import { useState } from "react";
import { errorText } from "../api/client";
import { useRuns } from "../api/hooks";
import type { RunRecord } from "../api/types";
import { duration, money, STATUS_WORDS, when } from "../format";

/** Past runs of this flow: status, cost, duration; open one's trace or run it again with the same input. */
export function RunsPanel({ graphId, bump, onOpen, onRerun }: { graphId: number; bump: unknown; onOpen: (r: RunRecord) => void; onRerun: (r: RunRecord) => void }) {
  const [status, setStatus] = useState("");
  const runs = useRuns(graphId, status, bump);
  return (
    <div className="runs" data-testid="runs-panel">
      <div className="row between">
        <h2>Runs</h2>
        <select value={status} onChange={(e) => setStatus(e.target.value)} aria-label="Filter by status">
          <option value="">All</option>
          {["succeeded", "failed", "budget_exceeded", "cancelled", "running", "queued"].map((s) => <option key={s} value={s}>{STATUS_WORDS[s]}</option>)}
        </select>
      </div>
      {runs.error ? <div className="notice notice-error">{errorText(runs.error)}</div> : null}
      {runs.data?.length === 0 && <p className="muted small">No run{status ? " with this status" : ""} yet.</p>}
      <ul className="run-list">
        {(runs.data ?? []).map((r) => (
          <li key={r.id} data-testid="run-row">
            <button className="run-row" onClick={() => onOpen(r)}>
              <span className={`pill pill-${r.status}`}>{STATUS_WORDS[r.status] ?? r.status}</span>
              <span className="small">{when(r.created_at)}</span>
              <span className="small">{duration(r.totals.duration_ms)}</span>
              <span className="small">{money(r.totals.cost_usd)}</span>
              <span className="muted small">v{r.version}</span>
            </button>
            <button className="btn btn-small" title="Run again with the same input" onClick={() => onRerun(r)}>Re-run</button>
          </li>
        ))}
      </ul>
    </div>
  );
}
