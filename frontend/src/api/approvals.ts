/** Approval steps: the inbox of decisions waiting for the signed-in person, deciding one, and signed links. */
import { api } from "./client";
import type { Deciders } from "./types";

export interface Question {
  name: string;
  label?: string;
  required?: boolean;
}

export interface Approval {
  id: number;
  run?: string;
  graph?: number;
  graph_name?: string;
  run_status?: string;
  node_id?: string;
  title: string;
  draft: unknown;
  status: "pending" | "approved" | "rejected" | "expired";
  allow_edit: boolean;
  require_reason_on_reject: boolean;
  questions: Question[];
  deciders?: Deciders;
  requested_at: string;
  deadline_at: string;
  on_deadline: string;
  decided_by: string | null;
  decided_at: string | null;
  can_decide?: boolean;
}

export interface Decision {
  action: "approve" | "reject";
  output?: unknown;
  fields?: Record<string, string>;
  via?: "canvas" | "api";
}

export const listInbox = () => api<Approval[]>("GET", "/api/approvals/");
export const getApproval = (id: number) => api<Approval>("GET", `/api/approvals/${id}/`);
export const decideApproval = (id: number, decision: Decision) =>
  api<Approval>("POST", `/api/approvals/${id}/decide/`, { via: "canvas", ...decision });
/** A signed one-time link for someone without an account (a decider asks; any earlier link stops working). */
export const makeDecideLink = (id: number) => api<{ token: string; path: string }>("POST", `/api/approvals/${id}/link/`);
export const getLinkedApproval = (token: string) => api<Approval>("GET", `/api/approval-links/${encodeURIComponent(token)}/`);
export const decideByLink = (token: string, decision: Decision) =>
  api<Approval>("POST", `/api/approval-links/${encodeURIComponent(token)}/`, { action: decision.action, output: decision.output, fields: decision.fields });

/** Who may decide, in words: "Only bob, carol" or "Editors and admins". */
export function decidersWords(d: Deciders | undefined): string {
  if (d?.members?.length) return `Only ${d.members.join(", ")}`;
  return d?.role === "admin" ? "Admins" : "Editors and admins";
}
