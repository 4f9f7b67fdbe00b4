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
export type RunStatus = "queued" | "running" | "waiting" | "succeeded" | "failed" | "budget_exceeded" | "cancelled";
export interface RunTotals {
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  llm_calls: number;
  duration_ms: number | null;
  cache_hits?: number;
  /** What the cache hits saved: the original calls' cost and model time. */
  saved_usd?: number;
  saved_ms?: number;
}
/** A span, as span.json defines it (the zod schema in ./events is checked against that file). */
export type SpanRecord = Span;
/** The runs search's query parameters the Runs panel sets (GET /api/runs/; the API takes more). */
export interface RunFilters {
  status?: string;
  source?: string;
  /** Part of the request id or of the error text. */
  q?: string;
}

/** A workspace's month of spend against its cap (GET /api/workspaces/<id>/spend/). */
export interface SpendStatus {
  workspace: number;
  monthly_cap_usd: number | null;
  warn_at_fraction: number;
  spend_this_month: number;
  month_start: string;
  /** Runs and endpoint calls refused at the cap this month; null while it cannot be read. */
  refused_this_month: number | null;
  warning: boolean;
  reached: boolean;
}

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
  fresh?: boolean;
  /** Time inside the engine, first step to last (the same as totals.duration_ms). */
  engine_ms: number | null;
  /** From accepted to finished, queue wait included; null until the run ends. */
  total_ms: number | null;
  websocket: string;
  /** A replay: the run it re-ran, and the node it re-ran from (null: all of it). */
  replay_of?: string | null;
  replay_from_node?: string | null;
  spans?: SpanRecord[];
  /** Retention dropped the run's events and span input/output; totals and span timings are kept. */
  details_pruned?: boolean;
  /** A waiting run's undecided approval steps, and who may decide each. */
  waiting_for?: WaitingFor[];
  /** The release the run ran (a call through an endpoint); null for a run of a bare version. */
  release?: { id: number; number: number } | null;
}

export interface WaitingFor {
  approval: number;
  node_id: string;
  title: string;
  deadline_at: string;
  deciders: Deciders;
}

export interface Deciders {
  role?: string;
  members?: string[];
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

/** The Models page: an alias's settings, its health over 24 h, its circuit breaker and recent trips. */
export interface ModelHealth {
  calls: number;
  failed: number;
  fallbacks: number;
  error_rate: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  spend_today_usd: number;
  last_error: string;
  last_error_at: string | null;
}
export type BreakerStateName = "closed" | "open" | "half_open" | "unknown";
export interface BreakerState {
  state: BreakerStateName;
  until: number | null; // epoch seconds
  failures: number;
  last_error: string;
}
export interface ModelEvent {
  kind: "tripped" | "reopened" | "recovered";
  detail: string;
  at: string;
}
export interface ModelOverview extends ModelAlias {
  has_api_key: boolean;
  api_base: string;
  max_retries: number;
  timeout_s: number;
  breaker: { failures: number; window_s: number; cooldown_s: number } | null;
  health: ModelHealth;
  breaker_state: BreakerState;
  events: ModelEvent[];
}
/** What PATCH /api/models/<alias>/ takes; api_key is write-only ("" removes it). */
export interface ModelAliasChange {
  model?: string;
  api_base?: string;
  api_key?: string;
  enabled?: boolean;
  fallbacks?: string[];
  max_retries?: number;
  timeout_s?: number;
  input_cost_per_mtok?: number | null;
  output_cost_per_mtok?: number | null;
}
/** One move of a published endpoint (newest first in `Endpoint.releases`). */
export interface EndpointRelease {
  action: "published" | "rolled_back" | "unpublished";
  version: number;
  previous_version: number | null;
  actor: string | null;
  note: string;
  created_at: string;
}
/** Calls through an endpoint since 00:00 UTC; latency is what callers waited, accepted to finished. */
export interface EndpointStats {
  calls: number;
  errors: number;
  running: number;
  p50_ms: number | null;
  p95_ms: number | null;
  cost_usd: number;
}
export interface Endpoint {
  slug: string;
  /** live: callers run `version`; off: unpublished (callers get 404); draft: never published. */
  status: "live" | "off" | "draft";
  graph: { id: number; name: string };
  workspace: number;
  description: string;
  version: number | null;
  latest_version: number | null;
  /** The graph's release label it serves (production unless changed) and the release number it points at. */
  label: string;
  release: number | null;
  urls: { run: string; openapi: string; status: string };
  example_input: unknown;
  /** Every key the server sends is shown as a tab (curl, python, javascript, openai_*, ...). */
  snippets: Record<string, string>;
  today: EndpointStats;
  releases: EndpointRelease[];
}
export interface ApiKeyUsage {
  calls: number;
  tokens: number;
  cost_usd: number;
}
export interface ApiKey {
  id: number;
  name: string;
  prefix: string;
  workspace: number;
  scopes: string[];
  rate_limit_per_minute: number | null;
  daily_max_cost_usd: number | null;
  created_by: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  active: boolean;
  usage: { today: ApiKeyUsage; total: ApiKeyUsage };
}
/** The answer to creating a key: the only time the whole key is shown. */
export interface ApiKeyCreated extends ApiKey {
  key: string;
}
export interface ApiKeyInput {
  name: string;
  scopes: string[];
  /** Left out: the deployment's default limit. */
  rate_limit_per_minute?: number;
  /** Left out: no cap. */
  daily_max_cost_usd?: number;
}
