/**
 * The flow's budget per run (spec `budget`: cost, time, model calls), as a form: no JSON to type.
 * The same rjsf form as a step's settings (SchemaForm.tsx), so the server's problems with
 * `budget.<limit>` (POST /api/graphs/validate/, or a refused save) sit beside the box at fault.
 * The limits themselves are the server's rule (engine/validation.py BUDGET_SCHEMA); this schema
 * only names the boxes.
 */
import { useMemo } from "react";
import { stripSpecPrefix, type JsonObject, type JsonSchema, type PinnedProblem } from "../graph-core";
import { useGraph } from "../stores/graphStore";
import type { FormContext } from "./forms/context";
import { ConfigForm } from "./SchemaForm";

export const BUDGET_FORM_SCHEMA: JsonSchema = {
  type: "object",
  properties: {
    max_cost_usd: { type: "number", title: "Max cost (USD)", description: "Stop before a model call would spend more than this in one run." },
    max_seconds: { type: "number", title: "Max seconds", description: "Stop a run that takes longer than this." },
    max_llm_calls: { type: "integer", title: "Max model calls", description: "Stop before the model call that would pass this count." },
  },
};

/** Test ids of the boxes: `cfg-flow-budget-max_cost_usd` and so on (forms/context.ts testIdOf). */
const BUDGET_FORM_ID = "flow-budget";

/** Is this one of the flow's problems about its budget? (The flow settings list the others.) */
export function isBudgetProblem(p: PinnedProblem): boolean {
  const path = stripSpecPrefix(p.path);
  return !p.nodeId && p.edgeIndex === null && (path === "budget" || path.startsWith("budget."));
}

/** The budget problems, each pinned to its box ("budget.max_cost_usd" → "max_cost_usd"); "budget" itself goes above. */
export function budgetProblems(problems: PinnedProblem[]): PinnedProblem[] {
  return problems.filter(isBudgetProblem).map((p) => ({ ...p, field: stripSpecPrefix(p.path).replace(/^budget\.?/, "") }));
}

/** An empty budget is no budget: the spec leaves the key out rather than saving `{}`. */
export function budgetOf(value: JsonObject): JsonObject | undefined {
  const kept = Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== null));
  return Object.keys(kept).length ? kept : undefined;
}

const CONTEXT: FormContext = {
  models: [], graphs: [], graphId: null, workspace: null, suggestions: [], nodeId: BUDGET_FORM_ID, joinable: [],
  onGraphsChanged: () => undefined,
};

export function BudgetForm() {
  const budget = useGraph((s) => s.meta.budget) as JsonObject | undefined;
  const all = useGraph((s) => s.problems);
  const problems = useMemo(() => budgetProblems(all), [all]);
  return (
    <div data-testid="budget-form">
      <h3>Budget per run</h3>
      <p className="muted small">A run that would go past a limit stops with a clear reason, keeping what it did. An empty box is no limit.</p>
      <ConfigForm schema={BUDGET_FORM_SCHEMA} value={budget ?? {}} problems={problems} context={CONTEXT}
        onChange={(value) => useGraph.getState().setMeta({ budget: budgetOf(value) })} />
    </div>
  );
}
