/** Insights: for one graph over a chosen period, the number each pattern step needs to show it earns its
 * cost, the advisor's findings, and a cost projection. */
import { useEffect, useState } from "react";
import { errorText } from "../api/client";
import { useGraphs } from "../api/hooks";
import { navigate } from "../router";
import type { Account } from "../ui/TopBar";
import { TopBar } from "../ui/TopBar";
import { getInsights, type Insights } from "./api";
import { PERIODS } from "./numbers";
import { CostChart, FindingCards, Headline, StepsChart } from "./OverviewCharts";
import { GateCard, LoopCard, VoteCard, WorkersCard } from "./PatternCharts";
import { ProjectionPanel } from "./ProjectionPanel";
import { RouterMatrix } from "./RouterMatrix";
import "./insights.css";

function Picker({ graphId, days, onDays }: { graphId: number | null; days: number; onDays: (d: number) => void }) {
  const graphs = useGraphs();
  return (
    <div className="insights-pickers">
      <label className="small">Flow
        <select value={graphId ?? ""} onChange={(e) => navigate(`/insights/${e.target.value}`)} data-testid="insights-graph">
          <option value="" disabled>Pick a flow…</option>
          {graphs.data?.map((g) => <option key={g.id} value={g.id}>{g.name}</option>)}
        </select>
      </label>
      <label className="small">Period
        <select value={days} onChange={(e) => onDays(Number(e.target.value))} data-testid="insights-period">
          {PERIODS.map((p) => <option key={p.days} value={p.days}>{p.label}</option>)}
        </select>
      </label>
      {graphId !== null && <a className="btn btn-ghost" href={`/graphs/${graphId}`} onClick={(e) => { e.preventDefault(); navigate(`/graphs/${graphId}`); }}>Open in the editor</a>}
    </div>
  );
}

function Dashboard({ data }: { data: Insights }) {
  const p = data.patterns;
  const none = !p.routers.length && !p.votes.length && !p.loops.length && !p.orchestrators.length && !p.gates.length;
  return (
    <>
      <Headline data={data} />
      <h2>What to change</h2>
      <FindingCards findings={data.findings} />
      <h2>Pattern steps</h2>
      {none && <p className="muted small">This flow has no router, vote, loop, orchestrator or gate.</p>}
      <div className="insight-grid">
        {p.routers.map((r) => <RouterMatrix key={r.node_id} router={r} />)}
        {p.votes.map((v) => <VoteCard key={v.node_id} vote={v} />)}
        {p.loops.map((l) => <LoopCard key={l.node_id} loop={l} />)}
        {p.orchestrators.map((o) => <WorkersCard key={o.node_id} workers={o} />)}
        {p.gates.map((g) => <GateCard key={g.node_id} gate={g} />)}
      </div>
      <h2>Time and money</h2>
      <div className="insight-grid">
        <StepsChart data={data} />
        <CostChart data={data} />
      </div>
    </>
  );
}

function InsightsPage({ account, graphId }: { account: Account; graphId: number | null }) {
  const [days, setDays] = useState(30);
  const [data, setData] = useState<Insights | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (graphId === null) return;
    let live = true;
    setError(null);
    getInsights(graphId, days).then((d) => live && setData(d), (e) => live && setError(errorText(e)));
    return () => { live = false; };
  }, [graphId, days]);
  return (
    <div className="page">
      <TopBar account={account} />
      <main className="graphs-page insights-page" data-testid="insights-page">
        <h1>Insights</h1>
        <p className="muted small">From the runs recorded in the period: whether each pattern step still earns its cost, and what to change.</p>
        <Picker graphId={graphId} days={days} onDays={setDays} />
        {error && <div className="notice notice-error" role="alert">{error}</div>}
        {graphId === null && <p className="muted">Pick a flow to see its numbers.</p>}
        {graphId !== null && data?.graph === graphId && <Dashboard data={data} />}
        {graphId !== null && <ProjectionPanel key={graphId} graphId={graphId} />}
      </main>
    </div>
  );
}

// A default export: App loads this page lazily (React.lazy), so the charts library stays out of the main bundle.
export default InsightsPage;
