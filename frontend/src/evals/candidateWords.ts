/** What an eval tried instead of the flow as saved, in plain words; and the steps whose model it can swap (pure). */
import type { GraphSpec } from "../graph-core";

export type Candidate = { name: string; ref: string } | { node: string; model: string; was: string };

export function candidateWords(candidate: Candidate | null | undefined): string {
  if (!candidate) return "";
  if ("ref" in candidate) return `with prompt ${candidate.ref}`;
  return `with ${candidate.model} for step ${candidate.node}${candidate.was ? ` (instead of ${candidate.was})` : ""}`;
}

export interface ModelStep { id: string; model: string }

/** The flow's model steps (llm), with the model each names: the steps an eval can try another model for. */
export function modelSteps(spec: GraphSpec | null | undefined): ModelStep[] {
  return (spec?.nodes ?? [])
    .filter((n) => n.type === "llm")
    .map((n) => ({ id: n.id, model: String(n.config?.model ?? "") }));
}
