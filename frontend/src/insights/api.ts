/** The insights endpoints: a graph's dashboard, people's labels on runs, cost projections. */
import { api } from "../api/client";

export interface RouteStat { route: string; precision: number | null; recall: number | null; labelled: number; chosen: number }
export interface RouterMetrics {
  node_id: string; runs: number; labelled: number; routes: string[];
  matrix: { true: string; counts: Record<string, number> }[];
  per_route: RouteStat[]; default_share: number | null;
}
export interface VoteMetrics {
  node_id: string; runs: number; samples: number; mean_agreement: number | null; unanimous_share: number | null;
  series: { day: string; runs: number; mean_agreement: number | null; unanimous_share: number | null }[];
}
export interface LoopMetrics {
  node_id: string; runs: number; max_iterations: number; first_pass_share: number | null; cap_share: number | null;
  mean_iterations: number | null; histogram: { iterations: number; runs: number }[];
}
export interface WorkerMetrics {
  node_id: string; runs: number; max_workers: number; mean_workers: number | null; at_cap_share: number | null;
  histogram: { workers: number; runs: number }[];
}
export interface GateMetrics {
  node_id: string; runs: number; exits: number; exit_rate: number | null; mean_downstream_cost_usd: number | null;
  saved_usd: number | null;
}
export interface StepMetrics {
  node_id: string; node_type: string; runs: number; p50_ms: number | null; p95_ms: number | null; cost_usd: number;
  cost_share: number | null;
}
export interface Finding {
  rule: string; node_id: string; title: string; advice: string; evidence: string[];
  usd_at_stake: number | null; usd_per_1000_runs: number | null; ms_at_stake: number | null;
}
export interface Insights {
  graph: number; since: string; until: string; runs: number;
  patterns: { routers: RouterMetrics[]; votes: VoteMetrics[]; loops: LoopMetrics[]; orchestrators: WorkerMetrics[]; gates: GateMetrics[] };
  steps: StepMetrics[];
  cost: { runs: number; mean_usd: number | null; p50_usd: number | null; p95_usd: number | null; total_usd: number;
    histogram: { from_usd: number; to_usd: number; runs: number }[] };
  calls: { llm_calls: number; cache_hits: number; fallbacks: number; fallback_rate: number | null; cache_hit_rate: number | null };
  findings: Finding[];
}
export interface RunLabel {
  node_id: string; route: string; verdict: "" | "pass" | "fail"; comment: string;
  created_by: string | null; created_at: string; updated_by: string | null; updated_at: string;
}
export interface ProjectionResult {
  runs: number; failed: number; first_error: string | null; mean_cost_usd: number; cost_per_1000_runs_usd: number;
  p50_latency_ms: number | null; p95_latency_ms: number | null; mean_llm_calls: number | null;
  run_hours_per_1000_runs: number; steps: { node_id: string; cost_usd_per_run: number; cost_share: number | null }[];
}
export interface Projection {
  id: number; graph: number; version: number; inputs: number; source: string;
  status: "queued" | "running" | "succeeded" | "failed"; result: ProjectionResult | null; error: string;
}

export const getInsights = (graph: number, days: number) => api<Insights>("GET", `/api/graphs/${graph}/insights/?days=${days}`);
export const listLabels = (run: string) => api<RunLabel[]>("GET", `/api/runs/${run}/labels/`);
export const setLabel = (run: string, label: Partial<RunLabel> & { node_id: string }) =>
  api<RunLabel>("POST", `/api/runs/${run}/labels/`, label);
/** From the newest runs' inputs ({ recent: N }) or a dataset's items' inputs ({ dataset: id }). */
export const startProjection = (graph: number, source: { recent: number } | { dataset: number }) =>
  api<Projection>("POST", `/api/graphs/${graph}/projections/`, source);
export const getProjection = (id: number) => api<Projection>("GET", `/api/projections/${id}/`);
