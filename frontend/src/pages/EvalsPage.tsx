/** Evals: run a flow (or a candidate prompt, or another model for one step) over a dataset, watch it, read the numbers, compare two runs. */
import { useEffect, useState } from "react";
import { errorText } from "../api/client";
import { type EvalRun, listEvals } from "../api/evals";
import { when } from "../format";
import { navigate } from "../router";
import type { Account } from "../ui/TopBar";
import { TopBar } from "../ui/TopBar";
import { candidateWords } from "../evals/candidateWords";
import { CompareView } from "../evals/CompareView";
import { EvalResult } from "../evals/EvalResult";
import { percent } from "../evals/scorerChoices";
import { StartEval } from "../evals/StartEval";

const TRIGGER_WORDS: Record<string, string> = { manual: "by hand", graph_version: "new flow version", prompt_version: "new prompt version", baseline: "baseline" };

function EvalList() {
  const [runs, setRuns] = useState<EvalRun[]>([]);
  const [error, setError] = useState("");
  useEffect(() => { listEvals().then(setRuns, (e) => setError(errorText(e))); }, []);
  if (error) return <div className="notice notice-error" role="alert">{error}</div>;
  if (!runs.length) return <p className="muted" data-testid="evals-empty">No evals yet.</p>;
  return (
    <table className="table" data-testid="evals-table">
      <thead><tr><th>Flow</th><th>Dataset</th><th>Started</th><th>Why</th><th>Passed</th><th>Progress</th></tr></thead>
      <tbody>
        {runs.map((r) => (
          <tr key={r.id} data-testid="eval-row">
            <td><a href={`/evals/${r.id}`} onClick={(e) => { e.preventDefault(); navigate(`/evals/${r.id}`); }}>{r.graph_name} v{r.version}{r.candidate ? ` ${candidateWords(r.candidate)}` : ""}</a></td>
            <td>{r.dataset_name}</td>
            <td>{when(r.created_at)}</td>
            <td>{TRIGGER_WORDS[r.trigger] ?? r.trigger}</td>
            <td>{percent(r.summary?.pass_rate.value)}</td>
            <td>{r.status === "running" ? `${r.done} of ${r.total}` : r.status === "succeeded" ? "done" : r.status}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function EvalsPage({ account, evalId, compareWith }: { account: Account; evalId: string | null; compareWith: string | null }) {
  return (
    <div className="page">
      <TopBar account={account} />
      <main className="graphs-page" data-testid="evals-page">
        {evalId && compareWith ? <CompareView a={evalId} b={compareWith} /> : evalId ? <EvalResult id={evalId} /> : (
          <>
            <h1>Evals</h1>
            <p className="muted small">Run a flow over a dataset and score every answer, before a change goes live.</p>
            <StartEval />
            <EvalList />
          </>
        )}
      </main>
    </div>
  );
}
