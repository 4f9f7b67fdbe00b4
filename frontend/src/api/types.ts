import type { GraphSpec, NodeTypeInfo } from "../graph-core";
import type { Span } from "./events";

export type { NodeTypeInfo };

/** Why a version was made: a save, or a run of unsaved edits (History folds those). */
export type VersionReason = "save" | "run";
export interface VersionSummary {
  number: number;
  content_hash: string;
  author: string | null;
  message: string;
  reason: VersionReason;
  created_at: string;
}
export interface VersionDetail extends VersionSummary {
  spec: GraphSpec;
}
export interface GraphSummary {
  id: number;
  name: string;
  workspace: number;
  created_at: string;
  updated_at: string;
  latest_version: VersionSummary | null;
}
export interface GraphDetail extends GraphSummary {
  spec: GraphSpec | null;
  created_version?: boolean;
}
export interface ValidateResult {
  valid: boolean;
  problems: { path: string; message: string; node_id?: string | null }[];
}
export interface ModelAlias {
  alias: string;
  model: string;
  demo: boolean;
  enabled: boolean;
  fallbacks: string[];
  input_cost_per_mtok: number | null;
  output_cost_per_mtok: number | null;
  description: string;
}
export type RunStatus = "queued" | "running" | "succeeded" | "failed" | "budget_exceeded" | "cancelled";
export interface RunTotals {
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  llm_calls: number;
  duration_ms: number | null;
  cache_hits?: number;
}
/** A span, as span.json defines it (the zod schema in ./events is checked against that file). */
export type SpanRecord = Span;
export interface RunRecord {
  id: string;
  graph: number;
  version: number;
  status: RunStatus;
  input: unknown;
  output: unknown;
  error: string | null;
  trace_id: string;
  source: string;
  budget: Record<string, number>;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  totals: RunTotals;
  /** Time inside the engine, first step to last (the same as totals.duration_ms). */
  engine_ms: number | null;
  /** From accepted to finished, queue wait included; null until the run ends. */
  total_ms: number | null;
  websocket: string;
  spans?: SpanRecord[];
  /** Retention dropped the run's events and span input/output; totals and span timings are kept. */
  details_pruned?: boolean;
}
export interface Session {
  authenticated: boolean;
  user: { username: string; is_staff: boolean } | null;
  workspace?: { id: number; name: string; role?: Role | null };
  csrf_token: string;
}

/** A workspace role; what each may do is decided on the server (backend/graphs/authz.py). */
export type Role = "admin" | "editor" | "viewer";
export interface Member {
  user_id: number;
  username: string;
  role: Role;
  is_you: boolean;
}
export interface Members {
  workspace: number;
  your_role: Role;
  can_manage: boolean;
  roles: Role[];
  members: Member[];
}
