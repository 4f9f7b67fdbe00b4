/** Two eval runs side by side: which items got better or worse, and what it costs. */
import { useEffect, useState } from "react";
import { errorText } from "../api/client";
import { type Comparison, compareEvals } from "../api/evals";
import { pretty } from "../format";
import { navigate } from "../router";
import { percent, signed } from "./scorerChoices";

const OUTCOME_WORDS = { win: "Better", loss: "Worse", tie: "Same" } as const;

function Totals({ c }: { c: Comparison }) {
  return (
    <div className="eval-summary" data-testid="compare-totals">
      <div><b data-testid="compare-wins">{c.wins}</b> better · <b data-testid="compare-losses">{c.losses}</b> worse · <b data-testid="compare-ties">{c.ties}</b> the same</div>
      <div>Pass rate {percent(c.pass_rate.a)} → {percent(c.pass_rate.b)} ({signed(c.pass_rate.delta, "rate")})</div>
      <div>Cost {signed(c.cost_usd.delta, "usd")} · typical time {signed(c.latency_p50_ms.delta, "ms")} · slowest 5 % {signed(c.latency_p95_ms.delta, "ms")}</div>
    </div>
  );
}

export function CompareView({ a, b }: { a: string; b: string }) {
  const [c, setC] = useState<Comparison | null>(null);
  const [error, setError] = useState("");
  useEffect(() => { compareEvals(a, b).then(setC, (e) => setError(errorText(e))); }, [a, b]);
  if (error) return <div className="notice notice-error" role="alert">{error}</div>;
  if (!c) return <p className="muted">Loading…</p>;
  return (
    <section data-testid="compare-view">
      <a href={`/evals/${b}`} onClick={(e) => { e.preventDefault(); navigate(`/evals/${b}`); }} className="small">← Back to the eval</a>
      <h1>Comparison</h1>
      <Totals c={c} />
      <table className="table" data-testid="compare-items">
        <thead><tr><th>Input</th><th>Before</th><th>After</th><th>Result</th><th>Cost</th><th>Time</th></tr></thead>
        <tbody>
          {c.items.map((row) => (
            <tr key={row.item} data-testid="compare-item" className={`outcome-${row.outcome}`}>
              <td><pre className="cell-json">{pretty(row.input)}</pre></td>
              <td><pre className="cell-json">{pretty(row.a.output)}</pre></td>
              <td><pre className="cell-json">{pretty(row.b.output)}</pre></td>
              <td>{OUTCOME_WORDS[row.outcome]}</td>
              <td>{signed(row.cost_usd.delta, "usd")}</td>
              <td>{signed(row.latency_ms.delta, "ms")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
