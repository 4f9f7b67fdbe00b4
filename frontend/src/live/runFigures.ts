/** What the run header and the Run panel show about a run, worked out from its state (pure). */
import { money } from "../format";
import { budgetClause } from "./budgetWords";
import type { NodeRun } from "./runState";

interface Clock {
  totals: { duration_ms: number | null } | null;
  startedAt: number | null;
  finishedAt: number | null;
}

/**
 * Time the run has taken so far. The start comes from the server's clock and "now" from the browser's,
 * so a browser a little behind would show "-2 ms": never less than zero.
 */
export function elapsedMs(run: Clock, now: number): number | null {
  if (run.totals?.duration_ms !== null && run.totals?.duration_ms !== undefined) return Math.max(0, run.totals.duration_ms);
  if (run.startedAt === null) return null;
  return Math.max(0, (run.finishedAt ?? now) - run.startedAt);
}

/** The run header's word on the cache, "cached: 2 · saved $0.0031", or null when nothing came from it. */
export function cacheWords(totals: { cache_hits?: number; saved_usd?: number } | null): string | null {
  const hits = totals?.cache_hits ?? 0;
  if (hits <= 0) return null;
  return `cached: ${hits} · saved ${money(totals?.saved_usd ?? 0)}`;
}

/** How many of the canvas's steps are in each state; steps inside a subgraph ("qa/answer") are not canvas steps. */
export function canvasStepCounts(nodes: Record<string, NodeRun>, canvasIds: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const id of canvasIds) {
    const status = nodes[id]?.status;
    if (status) counts[status] = (counts[status] ?? 0) + 1;
  }
  return counts;
}

export type ResultView = { kind: "text" | "json"; text: string } | { kind: "empty" };

/** A run's result for reading: text as text, anything else as indented JSON. */
export function resultView(output: unknown): ResultView {
  if (output === undefined || output === null || output === "") return { kind: "empty" };
  if (typeof output === "string") return { kind: "text", text: output };
  return { kind: "json", text: JSON.stringify(output, null, 2) };
}

/** Why a run did not succeed, in plain words. */
export function failureWords(status: string | null, error: string | null): string | null {
  if (status === "cancelled") return "The run was stopped before it finished.";
  if (status === "budget_exceeded") {
    const clause = budgetClause(error);
    return `The run went over its budget and was stopped${clause ? `: ${clause}.` : error ? `: ${error}` : "."}`;
  }
  if (status === "failed") return `The run failed${error ? `: ${error}` : "."}`;
  return null;
}

/** One short line of a run's input, for the runs list: the values, not the JSON around them. */
export function inputPreview(input: unknown, max = 80): string {
  const flat = (v: unknown): string => {
    if (v === null || v === undefined) return "";
    if (typeof v === "string") return v;
    if (Array.isArray(v)) return v.map(flat).join(", ");
    if (typeof v === "object") {
      const entries = Object.entries(v as Record<string, unknown>);
      if (entries.length === 1) return flat(entries[0][1]);
      return entries.map(([k, x]) => `${k}: ${flat(x)}`).join(" · ");
    }
    return String(v);
  };
  const line = flat(input).replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** Where a run was started, in the runs list. */
export const SOURCE_WORDS: Record<string, string> = {
  canvas: "canvas", endpoint: "endpoint", replay: "replay", api: "api", cli: "cli", openai: "openai",
};
