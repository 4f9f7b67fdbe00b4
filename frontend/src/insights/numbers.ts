/** How the Insights page words its numbers: shares as percentages, "no data" rather than a made-up zero. */
export const PERIODS: { days: number; label: string }[] = [
  { days: 1, label: "Last 24 hours" }, { days: 7, label: "Last 7 days" }, { days: 30, label: "Last 30 days" },
  { days: 90, label: "Last 90 days" },
];

export function percent(value: number | null | undefined): string {
  if (value === null || value === undefined) return "no data";
  return `${Math.round(value * 100)} %`;
}

/** A cell's background in the confusion matrix: the diagonal (right answers) green, the rest red, darker
 * the larger its share of the row. */
export function heat(count: number, rowTotal: number, onDiagonal: boolean): string {
  if (!count || !rowTotal) return "transparent";
  const alpha = 0.15 + 0.6 * (count / rowTotal);
  return onDiagonal ? `rgba(34, 160, 90, ${alpha.toFixed(2)})` : `rgba(210, 60, 60, ${alpha.toFixed(2)})`;
}

/** The "labels" a router could have been told: its routes, default last. */
export function routeChoices(config: unknown): string[] {
  const routes = (config as { routes?: { label?: unknown }[] } | undefined)?.routes ?? [];
  const labels = routes.map((r) => r.label).filter((l): l is string => typeof l === "string" && l !== "default");
  return [...labels, "default"];
}
