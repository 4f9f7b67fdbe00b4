/** Palette groups: the catalogue's `pattern` in words a non-engineer recognises, in a sensible order. */
export const PATTERN_GROUPS: Record<string, { title: string; blurb: string; color: string; order: number }> = {
  io: { title: "Start and finish", blurb: "Where a run's input enters and what it returns.", color: "#64748b", order: 0 },
  chaining: { title: "Prompt chaining", blurb: "Split a task into steps, with checks between them.", color: "#4f46e5", order: 1 },
  routing: { title: "Routing", blurb: "Send each input to the step that handles it best.", color: "#0891b2", order: 2 },
  parallelization: { title: "Parallelization", blurb: "Do independent work at once, or vote on an answer.", color: "#059669", order: 3 },
  sectioning: { title: "Parallelization", blurb: "Do independent work at once.", color: "#059669", order: 3 },
  voting: { title: "Parallelization", blurb: "Ask several times and vote.", color: "#059669", order: 3 },
  orchestrator: { title: "Orchestrator-workers", blurb: "A planner splits the work; workers do it; a writer joins it.", color: "#d97706", order: 4 },
  "orchestrator-workers": { title: "Orchestrator-workers", blurb: "A planner splits the work; workers do it; a writer joins it.", color: "#d97706", order: 4 },
  evaluator: { title: "Evaluator-optimizer", blurb: "Write, critique, improve: a bounded loop.", color: "#db2777", order: 5 },
  "evaluator-optimizer": { title: "Evaluator-optimizer", blurb: "Write, critique, improve: a bounded loop.", color: "#db2777", order: 5 },
  composition: { title: "Composition", blurb: "Use a whole saved flow as one step.", color: "#7c3aed", order: 6 },
  data: { title: "Data", blurb: "Reshape data without calling a model.", color: "#475569", order: 7 },
  people: { title: "People", blurb: "Pause for a person to approve, edit or reject.", color: "#b45309", order: 8 },
};

export function patternInfo(pattern: string) {
  return PATTERN_GROUPS[pattern] ?? {
    title: pattern.replace(/[_-]/g, " ").replace(/^./, (c) => c.toUpperCase()),
    blurb: "",
    color: "#6b7280",
    order: 50,
  };
}
