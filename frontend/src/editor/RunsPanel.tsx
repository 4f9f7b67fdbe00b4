import { useState } from "react";
import { decidersWords } from "../api/approvals";
import { errorText } from "../api/client";
import { useRuns } from "../api/hooks";
import type { RunFilters, RunRecord } from "../api/types";
import { duration, money, STATUS_WORDS, when } from "../format";
import { inputPreview, SOURCE_WORDS } from "../live/runFigures";
import { filtering, RunFilterRow } from "./RunFilterRow";

/** Past runs of this flow: when, from where, with what, status, cost, duration; open one's trace or run it again. */
export function RunsPanel({ graphId, bump, onOpen, onRerun }: { graphId: number; bump: unknown; onOpen: (r: RunRecord) => void; onRerun: (r: RunRecord) => void }) {
  const [filters, setFilters] = useState<RunFilters>({});
  const runs = useRuns(graphId, filters, bump);
  return (
    <div className="runs" data-testid="runs-panel">
      <h2>Runs</h2>
      <RunFilterRow filters={filters} onChange={setFilters} />
      {runs.error ? <div className="notice notice-error">{errorText(runs.error)}</div> : null}
      {runs.data?.length === 0 && <p className="muted small" data-testid="runs-empty">{filtering(filters) ? "No run matches these filters." : "No run yet."}</p>}
      <ul className="run-list">
        {(runs.data ?? []).map((r) => (
          <li key={r.id} data-testid="run-row" data-source={r.source}>
            <button className="run-row" onClick={() => onOpen(r)} title="Open this run's trace">
              <span className="run-row-top">
                <span className="small">{when(r.created_at)}</span>
                <span className="chip" data-testid="run-source">{SOURCE_WORDS[r.source] ?? r.source}</span>
                <span className="muted small">v{r.version}</span>
                {r.release && <span className="muted small" data-testid="run-release">release {r.release.number}</span>}
                <span className="grow" />
                <span className={`pill pill-${r.status}`}>{STATUS_WORDS[r.status] ?? r.status}</span>
              </span>
              <span className="run-row-input small" data-testid="run-input-preview">{inputPreview(r.input) || <span className="muted">(no input)</span>}</span>
              {r.status === "waiting" && r.waiting_for?.length ? (
                <span className="small warn" data-testid="run-waiting-who">
                  {r.waiting_for.map((w) => `${w.node_id}: ${decidersWords(w.deciders)}`).join(" · ")} to decide
                </span>
              ) : null}
              <span className="run-row-figures small muted">{money(r.totals.cost_usd)} · {duration(r.totals.duration_ms)}</span>
            </button>
            <button className="btn btn-small" title="Run again with the same input" onClick={() => onRerun(r)} data-testid="run-rerun">Re-run</button>
          </li>
        ))}
      </ul>
    </div>
  );
}
