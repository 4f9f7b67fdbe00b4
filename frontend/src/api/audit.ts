/** The audit log API: a workspace's entries (admins) and deployment-wide ones (staff), newest first. */
import { api } from "./client";

export interface AuditEntry {
  id: number;
  at: string;
  workspace: number | null;
  actor: { id: number | null; username: string };
  action: string;
  target: { type: string; id: string; name: string };
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  request_id: string | null;
}

export interface AuditPage {
  results: AuditEntry[];
  next: string | null;
  actions: string[];
}

export interface AuditQuery {
  actions?: string[];
  before?: number;
  limit?: number;
}

export function auditQueryString(q: AuditQuery): string {
  const params = new URLSearchParams();
  if (q.actions?.length) params.set("action", q.actions.join(","));
  if (q.before) params.set("before", String(q.before));
  if (q.limit) params.set("limit", String(q.limit));
  const s = params.toString();
  return s ? `?${s}` : "";
}

/** workspace null: the deployment-wide log (model registry), for staff. */
export const listAudit = (workspace: number | null, q: AuditQuery = {}) =>
  api<AuditPage>("GET", `${workspace === null ? "/api/audit/" : `/api/workspaces/${workspace}/audit/`}${auditQueryString(q)}`);
