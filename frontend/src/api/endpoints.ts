/** One function per endpoint. */
import type { GraphSpec, NodeTypeInfo } from "../graph-core";
import { api } from "./client";
import type { ApiKey, ApiKeyCreated, ApiKeyInput, Endpoint, GraphDetail, GraphSummary, Member, Members, ModelAlias, ModelAliasChange, ModelOverview, Role, RunFilters, RunRecord, Session, SpendStatus, ValidateResult, VersionDetail, VersionReason, VersionSummary } from "./types";

export const getSession = () => api<Session>("GET", "/api/session/");
export const signIn = (username: string, password: string) => api<Session>("POST", "/api/session/login/", { username, password });
export const signOut = () => api<void>("POST", "/api/session/logout/");

export const listGraphs = () => api<GraphSummary[]>("GET", "/api/graphs/");
export const getGraph = (id: number) => api<GraphDetail>("GET", `/api/graphs/${id}/`);
export const createGraph = (spec: GraphSpec, message = "") => api<GraphDetail>("POST", "/api/graphs/", { spec, message });
export const saveGraph = (id: number, spec: GraphSpec, message = "", reason: VersionReason = "save") =>
  api<GraphDetail>("PUT", `/api/graphs/${id}/`, { spec, message, reason });
export const deleteGraph = (id: number) => api<void>("DELETE", `/api/graphs/${id}/`);
export const duplicateGraph = (id: number, name?: string) => api<GraphDetail>("POST", `/api/graphs/${id}/duplicate/`, name ? { name } : {});
export const restoreVersion = (id: number, version: number, message = "") =>
  api<GraphDetail>("POST", `/api/graphs/${id}/restore/`, { version, message });
export const listVersions = (id: number) => api<VersionSummary[]>("GET", `/api/graphs/${id}/versions/`);
export const getVersion = (id: number, n: number) => api<VersionDetail>("GET", `/api/graphs/${id}/versions/${n}/`);
export const validateGraph = (spec: GraphSpec) => api<ValidateResult>("POST", "/api/graphs/validate/", { spec });

export const listNodeTypes = () => api<NodeTypeInfo[]>("GET", "/api/node-types/");
export const listModels = () => api<ModelAlias[]>("GET", "/api/models/");

/** A graph's runs, narrowed by the runs search (GET /api/runs/ filters; empty values are left out). */
export const listRuns = (graph: number, filters: RunFilters = {}) => {
  const query = new URLSearchParams({ graph: String(graph) });
  for (const [name, value] of Object.entries(filters)) if (value) query.set(name, value);
  return api<RunRecord[]>("GET", `/api/runs/?${query}`);
};
export const getRun = (id: string) => api<RunRecord>("GET", `/api/runs/${id}/`);
/** Start a run; ``source`` says where from (the runs list shows it); ``fresh`` skips the model cache. */
export const startRun = (graph: number, input: unknown, source: "canvas" | "replay", version?: number, fresh = false) =>
  api<RunRecord>("POST", "/api/runs/", { graph, input, source, ...(version ? { version } : {}), ...(fresh ? { fresh } : {}) });
export const cancelRun = (id: string) => api<RunRecord>("POST", `/api/runs/${id}/cancel/`);

export const getSpend = (workspace: number) => api<SpendStatus>("GET", `/api/workspaces/${workspace}/spend/`);
export const setSpendCap = (workspace: number, change: { monthly_cap_usd?: number | null; warn_at_fraction?: number }) =>
  api<SpendStatus>("PATCH", `/api/workspaces/${workspace}/spend/`, change);

export const listMembers = (workspace: number) => api<Members>("GET", `/api/workspaces/${workspace}/members/`);
export const inviteMember = (workspace: number, user: string, role: Role) =>
  api<Member>("POST", `/api/workspaces/${workspace}/members/`, { user, role });
export const changeMemberRole = (workspace: number, userId: number, role: Role) =>
  api<Member>("PATCH", `/api/workspaces/${workspace}/members/${userId}/`, { role });
export const removeMember = (workspace: number, userId: number) =>
  api<void>("DELETE", `/api/workspaces/${workspace}/members/${userId}/`);

// The Models page (health, breaker, editing an alias).
export const listModelHealth = () => api<ModelOverview[]>("GET", "/api/model-health/");
export const saveModelAlias = (alias: string, change: ModelAliasChange) => api<ModelAlias>("PATCH", `/api/models/${alias}/`, change);
export const listEndpoints = (graph?: number) => api<Endpoint[]>("GET", `/api/endpoints/${graph ? `?graph=${graph}` : ""}`);
export const createEndpoint = (graph: number, slug: string, version: number) =>
  api<Endpoint>("POST", "/api/endpoints/", { graph, slug, version, publish: true });
/** ``overrideReason``: an admin publishing past a refusing eval gate (audited). */
export const publishEndpoint = (slug: string, version: number, overrideReason?: string) =>
  api<Endpoint>("POST", `/api/endpoints/${slug}/publish/`, overrideReason ? { version, override_reason: overrideReason } : { version });
/** Without a version: back to the version live before the current one. */
export const rollbackEndpoint = (slug: string) => api<Endpoint>("POST", `/api/endpoints/${slug}/rollback/`, {});
/** Serve another of the graph's release labels (staging, a canary, back to production): admins; audited. */
export const followLabel = (slug: string, label: string) => api<Endpoint>("PATCH", `/api/endpoints/${slug}/`, { label });
export const unpublishEndpoint = (slug: string) => api<Endpoint>("POST", `/api/endpoints/${slug}/unpublish/`, {});

export const listApiKeys = () => api<ApiKey[]>("GET", "/api/api-keys/");
export const createApiKey = (input: ApiKeyInput) => api<ApiKeyCreated>("POST", "/api/api-keys/", input);
export const revokeApiKey = (id: number) => api<ApiKey>("POST", `/api/api-keys/${id}/revoke/`);
