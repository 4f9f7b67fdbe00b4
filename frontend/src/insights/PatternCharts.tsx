/** One card per pattern step: vote agreement over time, loop rounds, orchestrator workers, gate exits. */
import { Bar, BarChart, CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { money } from "../format";
import type { GateMetrics, LoopMetrics, VoteMetrics, WorkerMetrics } from "./api";
import { percent } from "./numbers";

const CHART_HEIGHT = 180;

export function VoteCard({ vote }: { vote: VoteMetrics }) {
  const series = vote.series.map((d) => ({ day: d.day.slice(5), agreement: d.mean_agreement, unanimous: d.unanimous_share }));
  return (
    <section className="insight-card" data-testid={`vote-${vote.node_id}`}>
      <h3>Vote '{vote.node_id}' <span className="muted small">{vote.samples} samples</span></h3>
      <p className="small">{vote.runs} runs · mean agreement {percent(vote.mean_agreement)} · unanimous {percent(vote.unanimous_share)}</p>
      <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
        <LineChart data={series}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="day" fontSize={11} />
          <YAxis domain={[0, 1]} tickFormatter={(v: number) => `${Math.round(v * 100)}%`} fontSize={11} />
          <Tooltip formatter={(v) => percent(Number(v))} />
          <Line type="monotone" dataKey="agreement" name="Agreement" stroke="#3b6fd8" dot={false} isAnimationActive={false} />
          <Line type="monotone" dataKey="unanimous" name="Unanimous" stroke="#22a05a" dot={false} isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </section>
  );
}

function Histogram({ data, x, cap, label }: { data: Record<string, number>[]; x: string; cap: number; label: string }) {
  return (
    <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
      <BarChart data={data}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey={x} fontSize={11} label={{ value: label, position: "insideBottom", offset: -2, fontSize: 11 }} />
        <YAxis allowDecimals={false} fontSize={11} />
        <Tooltip />
        <ReferenceLine x={cap} stroke="#d23c3c" label={{ value: "cap", fontSize: 11 }} />
        <Bar dataKey="runs" name="Runs" fill="#3b6fd8" isAnimationActive={false} />
      </BarChart>
    </ResponsiveContainer>
  );
}

export function LoopCard({ loop }: { loop: LoopMetrics }) {
  return (
    <section className="insight-card" data-testid={`loop-${loop.node_id}`}>
      <h3>Improve loop '{loop.node_id}' <span className="muted small">up to {loop.max_iterations} rounds</span></h3>
      <p className="small">{loop.runs} runs · passed at once {percent(loop.first_pass_share)} · ran out of rounds {percent(loop.cap_share)}</p>
      <Histogram data={loop.histogram} x="iterations" cap={loop.max_iterations} label="rounds" />
    </section>
  );
}

export function WorkersCard({ workers }: { workers: WorkerMetrics }) {
  return (
    <section className="insight-card" data-testid={`workers-${workers.node_id}`}>
      <h3>Orchestrator '{workers.node_id}' <span className="muted small">at most {workers.max_workers} workers</span></h3>
      <p className="small">{workers.runs} runs · {workers.mean_workers?.toFixed(1) ?? "no data"} workers on average · at the cap {percent(workers.at_cap_share)}</p>
      <Histogram data={workers.histogram} x="workers" cap={workers.max_workers} label="workers" />
    </section>
  );
}

export function GateCard({ gate }: { gate: GateMetrics }) {
  return (
    <section className="insight-card" data-testid={`gate-${gate.node_id}`}>
      <h3>Gate '{gate.node_id}'</h3>
      <p className="big-number">{percent(gate.exit_rate)}</p>
      <p className="small">of {gate.runs} runs stopped here ({gate.exits}).</p>
      <p className="small">Saved about <b>{money(gate.saved_usd)}</b>: what the later steps cost on average ({money(gate.mean_downstream_cost_usd)}) on the runs it let through, once per run it stopped.</p>
    </section>
  );
}
