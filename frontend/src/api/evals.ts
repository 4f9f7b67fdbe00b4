/** Datasets and eval runs: one function per endpoint. */
import type { Candidate } from "../evals/candidateWords";
import { api } from "./client";

export interface Dataset {
  id: number;
  name: string;
  description: string;
  held_out: boolean;
  items: number | null;
  sampling: { graph: number; rate: number }[];
  item_list?: DatasetItem[];
}

export interface DatasetItem {
  id: number;
  input: unknown;
  expected: unknown;
  labels: Record<string, unknown>;
  source_run: string | null;
}

export interface Rate { value: number | null; low: number | null; high: number | null; passed: number; n: number }
export interface MeanCI { mean: number | null; low: number | null; high: number | null; n: number }

export interface EvalSummary {
  items: number;
  pass_rate: Rate;
  scorers: Record<string, MeanCI & { pass_rate: Rate }>;
  cost_usd: { total: number; mean: number | null };
  latency_ms: MeanCI & { p50: number | null; p95: number | null };
}

export interface ItemScore { value: number; passed: boolean | null; comment: string; data_type: string; cost_usd: number }

export interface EvalItemRow {
  position: number;
  item: number | null;
  run: string;
  status: string;
  input: unknown;
  output: unknown;
  expected: unknown;
  error: string;
  scored: boolean;
  passed: boolean | null;
  cost_usd: number;
  latency_ms: number | null;
  scores: Record<string, ItemScore>;
  trace: string;
}

export interface EvalRun {
  id: string;
  dataset: number;
  dataset_name: string;
  graph: number;
  graph_name: string;
  version: number;
  candidate: Candidate | null;
  scorers: Record<string, unknown>[];
  trigger: string;
  status: string;
  done: number;
  total: number;
  summary: EvalSummary | null;
  created_at: string;
  item_list?: EvalItemRow[];
}

export interface Delta { a: number | null; b: number | null; delta: number | null }

export interface Comparison {
  a: string;
  b: string;
  wins: number;
  losses: number;
  ties: number;
  unmatched: number;
  items: { item: number; input: unknown; expected: unknown; outcome: "win" | "loss" | "tie"; a: EvalItemRow; b: EvalItemRow; cost_usd: Delta; latency_ms: Delta }[];
  pass_rate: Delta;
  scorers: Record<string, Delta>;
  cost_usd: Delta;
  latency_p50_ms: Delta;
  latency_p95_ms: Delta;
}

export const listDatasets = () => api<Dataset[]>("GET", "/api/datasets/");
export const getDataset = (id: number) => api<Dataset>("GET", `/api/datasets/${id}/`);
export const createDataset = (body: { name: string; held_out: boolean; description?: string }) => api<Dataset>("POST", "/api/datasets/", body);
export const updateDataset = (id: number, body: Partial<Pick<Dataset, "name" | "held_out" | "description">>) => api<Dataset>("PATCH", `/api/datasets/${id}/`, body);
export const deleteDataset = (id: number) => api<void>("DELETE", `/api/datasets/${id}/`);
export const addRunToDataset = (id: number, run: string) => api<DatasetItem>("POST", `/api/datasets/${id}/add-run/`, { run });
export const deleteItem = (id: number, item: number) => api<void>("DELETE", `/api/datasets/${id}/items/${item}/`);
export const importItems = (id: number, format: "jsonl" | "csv", text: string) => api<{ added: number }>("POST", `/api/datasets/${id}/import/`, { format, text });
export const setSampling = (id: number, graph: number, rate: number) => api<Dataset>("PUT", `/api/datasets/${id}/sampling/`, { graph, rate });
export const exportUrl = (id: number, format: "jsonl" | "csv") => `/api/datasets/${id}/export/?as=${format}`;

export const listEvals = () => api<EvalRun[]>("GET", "/api/evals/");
export const getEval = (id: string) => api<EvalRun>("GET", `/api/evals/${id}/`);
export const startEval = (body: { dataset: number; graph: number; version?: number; candidate_prompt?: string; candidate_model?: { node: string; model: string }; scorers: Record<string, unknown>[] }) =>
  api<EvalRun>("POST", "/api/evals/", body);
export const compareEvals = (a: string, b: string) => api<Comparison>("GET", `/api/evals/${a}/compare/${b}/`);
