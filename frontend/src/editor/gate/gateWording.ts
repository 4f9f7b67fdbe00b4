/** The eval gate's 409, read from an ApiError and said in plain words (the numbers come in rate units: 0.62). */
import { ApiError } from "../../api/client";

export interface GateRefusal {
  baseline: number | null;
  candidate: number | null;
  drop: number | null;
  threshold: number | null;
  /** The server's own sentence, for a refusal this page cannot word better. */
  message: string;
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** The refusal carried by an error, or null when the error is something else. */
export function gateRefusal(error: unknown): GateRefusal | null {
  if (!(error instanceof ApiError) || error.status !== 409 || error.code !== "eval_gate") return null;
  const p = (error.problems.find((x) => x.path === "version") ?? error.problems[0] ?? {}) as unknown as Record<string, unknown>;
  return {
    baseline: num(p.baseline_pass_rate), candidate: num(p.candidate_pass_rate), drop: num(p.drop), threshold: num(p.threshold),
    message: typeof p.message === "string" && p.message ? p.message : error.message,
  };
}

/** 0.62 → "62", 0.055 → "5.5": points out of a hundred, at most one decimal. */
export function points(rate: number): string {
  return String(Math.round(rate * 1000) / 10);
}

/** Why the gate said no, in one sentence a non-engineer can act on. */
export function gateReason(r: GateRefusal): string {
  const allowed = r.threshold === null ? "" : `, more than the ${points(r.threshold)} allowed`;
  if (r.baseline !== null && r.candidate !== null) {
    const drop = r.drop ?? r.baseline - r.candidate;
    return `Held-out evals: pass rate ${points(r.candidate)} % against ${points(r.baseline)} % on production — ` +
      `a drop of ${points(drop)} points${allowed}.`;
  }
  if (r.baseline !== null) {
    return `Held-out evals: this version has no finished eval on the held-out datasets yet, and production passes ` +
      `${points(r.baseline)} %. Run its evals first, or publish anyway with a reason.`;
  }
  return `Held-out evals: ${r.message.charAt(0).toUpperCase()}${r.message.slice(1)}${r.message.endsWith(".") ? "" : "."}`;
}
