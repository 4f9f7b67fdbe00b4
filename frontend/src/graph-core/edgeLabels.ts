/**
 * Where the label of an exit's edge goes (pure). A label at the edge's middle lands on the router's own exit
 * labels when the next step is close, and on its siblings' labels when several edges meet. So each label
 * sits at its edge's far end, just before the step it leads to, never left of its exit's own label, and
 * labels arriving at the same step stack upwards in the order of their exits.
 */

export interface ExitEdge {
  id: string;
  source: string;
  sourceHandle: string | null;
  target: string;
}

const CHAR_PX = 6.6; // 11 px system font, average glyph
const PAD_PX = 12;
const EXIT_LABEL_LEFT = 12; // .port-label sits 12 px right of its handle
const GAP_PX = 8;
export const LABEL_ROW_PX = 20;

export function labelWidth(text: string): number {
  return Math.ceil(text.length * CHAR_PX + PAD_PX);
}

/** For each labelled edge, its place in the stack of labels arriving at the same step (0 = on the edge). */
export function labelStacks(edges: readonly ExitEdge[], exitOrder: (source: string) => readonly string[]): Record<string, number> {
  const byTarget = new Map<string, ExitEdge[]>();
  for (const e of edges) byTarget.set(e.target, [...(byTarget.get(e.target) ?? []), e]);
  const stacks: Record<string, number> = {};
  for (const group of byTarget.values()) {
    const rank = (e: ExitEdge) => [e.source, String(exitOrder(e.source).indexOf(e.sourceHandle ?? "")).padStart(4, "0")].join("\u0000");
    [...group].sort((a, b) => rank(a).localeCompare(rank(b))).forEach((e, i) => { stacks[e.id] = i; });
  }
  return stacks;
}

/**
 * The label's centre, from where the edge starts and ends; null when the next step is too close for a label
 * between the exit's own label and the step (the exit's label already names the route there).
 */
export function labelPoint(text: string, stack: number, from: { x: number; y: number }, to: { x: number; y: number }): { x: number; y: number } | null {
  const half = labelWidth(text) / 2;
  const afterExitLabel = from.x + EXIT_LABEL_LEFT + labelWidth(text) + GAP_PX + half;
  const beforeTarget = to.x - GAP_PX - half;
  if (beforeTarget < afterExitLabel) return null;
  return { x: beforeTarget, y: to.y - stack * LABEL_ROW_PX };
}
