/** The whole graph: where time and money go per step, cost per run, cache and fallbacks, and the advice. */
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { duration, money } from "../format";
import type { Finding, Insights } from "./api";
import { percent } from "./numbers";

export function Headline({ data }: { data: Insights }) {
  const facts: [string, string, string][] = [
    ["Runs", String(data.runs), "runs"], ["Cost per run", money(data.cost.mean_usd), "mean-cost"],
    ["95 % of runs cost under", money(data.cost.p95_usd), "p95-cost"], ["Answered from the cache", percent(data.calls.cache_hit_rate), "cache-rate"],
    ["Answered by a fallback model", percent(data.calls.fallback_rate), "fallback-rate"],
  ];
  return (
    <div className="headline" data-testid="insights-headline">
      {facts.map(([label, value, id]) => <div key={id} className="headline-fact" data-testid={`fact-${id}`}><span className="big-number">{value}</span><span className="muted small">{label}</span></div>)}
    </div>
  );
}

export function FindingCards({ findings }: { findings: Finding[] }) {
  if (!findings.length) return <p className="muted small" data-testid="no-findings">Nothing to change: no pattern step shows a clear waste in this period (or there are too few runs to tell).</p>;
  return (
    <div className="findings">
      {findings.map((f) => (
        <article key={`${f.rule}-${f.node_id}`} className="finding" data-testid={`finding-${f.rule}`}>
          <h3>{f.title}</h3>
          <p>{f.advice}</p>
          <ul className="small">{f.evidence.map((e) => <li key={e}>{e}</li>)}</ul>
          <p className="small at-stake">
            {f.usd_per_1000_runs !== null && <>At stake: <b>{money(f.usd_per_1000_runs)}</b> per 1,000 runs ({money(f.usd_at_stake)} in this period). </>}
            {f.ms_at_stake !== null && <>Time at stake: <b>{duration(f.ms_at_stake)}</b> per run.</>}
          </p>
        </article>
      ))}
    </div>
  );
}

export function StepsChart({ data }: { data: Insights }) {
  const rows = data.steps.filter((s) => s.node_type !== "input" && s.node_type !== "output")
    .map((s) => ({ step: s.node_id, p50: s.p50_ms, p95: s.p95_ms, share: s.cost_share }));
  return (
    <section className="insight-card wide" data-testid="steps-chart">
      <h3>Time per step <span className="muted small">median and 95th percentile</span></h3>
      <ResponsiveContainer width="100%" height={Math.max(160, rows.length * 34)}>
        <BarChart data={rows} layout="vertical" margin={{ left: 40 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis type="number" tickFormatter={(v: number) => duration(v)} fontSize={11} />
          <YAxis type="category" dataKey="step" fontSize={11} width={110} />
          <Tooltip formatter={(v) => duration(Number(v))} />
          <Legend />
          <Bar dataKey="p50" name="Median" fill="#3b6fd8" isAnimationActive={false} />
          <Bar dataKey="p95" name="95th percentile" fill="#9db7ef" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
      <table className="route-stats small">
        <thead><tr><th>Step</th><th>Share of the model cost</th></tr></thead>
        <tbody>{rows.map((r) => <tr key={r.step}><td>{r.step}</td><td>{percent(r.share)}</td></tr>)}</tbody>
      </table>
    </section>
  );
}

export function CostChart({ data }: { data: Insights }) {
  const rows = data.cost.histogram.map((h) => ({ range: `${money(h.from_usd)}–${money(h.to_usd)}`, runs: h.runs }));
  return (
    <section className="insight-card" data-testid="cost-chart">
      <h3>Cost per run <span className="muted small">median {money(data.cost.p50_usd)}</span></h3>
      <ResponsiveContainer width="100%" height={180}>
        <BarChart data={rows}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="range" fontSize={10} interval="preserveStartEnd" />
          <YAxis allowDecimals={false} fontSize={11} />
          <Tooltip />
          <Bar dataKey="runs" name="Runs" fill="#22a05a" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </section>
  );
}
