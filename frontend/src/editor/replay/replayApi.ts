/** Replay a finished run from a node (POST /api/runs/<id>/replay/) and compare it with the original. */
import { api } from "../../api/client";
import { getRun } from "../../api/endpoints";
import type { RunRecord } from "../../api/types";
import { FINISHED } from "../../live/runState";

interface ReplayOverride {
  node: string;
  prompt?: string;
  model?: string;
}

interface Side {
  status: string;
  output: unknown;
  cost_usd: number;
  duration_ms: number | null;
  seeded: boolean;
}

interface Delta {
  original: number | null;
  replay: number | null;
  delta: number | null;
}

/** What GET /api/runs/<a>/compare/<b>/ answers (backend/runs/replay.py ``compare``). */
export interface RunComparison {
  original: string;
  replay: string;
  from_node: string | null;
  nodes: { node_id: string; original: Side | null; replay: Side | null; changed: boolean }[];
  output: { original: unknown; replay: unknown; changed: boolean };
  totals: { cost_usd: Delta; engine_ms: Delta; llm_calls: Delta };
}

/** The request body: the override only when it changes something (the server refuses an empty one). */
export function replayBody(fromNode: string, prompt: string, model: string): { from_node: string; override?: ReplayOverride } {
  const override: ReplayOverride = { node: fromNode };
  if (prompt.trim()) override.prompt = prompt;
  if (model.trim()) override.model = model.trim();
  return override.prompt || override.model ? { from_node: fromNode, override } : { from_node: fromNode };
}

const POLL_MS = 400;

/** Start the replay, wait for it to finish (the worker runs it like any run), then compare. */
export async function replayAndCompare(runId: string, body: ReturnType<typeof replayBody>): Promise<{ replay: RunRecord; diff: RunComparison }> {
  let replay = await api<RunRecord>("POST", `/api/runs/${runId}/replay/`, body);
  while (!FINISHED.includes(replay.status)) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    replay = await getRun(replay.id);
  }
  const diff = await api<RunComparison>("GET", `/api/runs/${runId}/compare/${replay.id}/`);
  return { replay, diff };
}
