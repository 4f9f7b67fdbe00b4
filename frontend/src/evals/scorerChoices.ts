/** The Evals page's scorer picker, in plain words, turned into the API's scorer objects (pure, tested). */

export interface ScorerChoice {
  type: string;
  label: string;
  on: boolean;
  /** The one setting a person types, if any (a pattern, a rubric, a limit...). */
  setting?: { key: string; label: string; value: string; numeric?: boolean };
}

export function defaultChoices(): ScorerChoice[] {
  return [
    { type: "exact", label: "Same answer as expected", on: true },
    { type: "contains", label: "Answer contains the text", on: false, setting: { key: "text", label: "Text", value: "" } },
    { type: "regex", label: "Answer matches a pattern", on: false, setting: { key: "pattern", label: "Pattern", value: "" } },
    { type: "route", label: "Router picked the labelled route", on: false },
    { type: "judge", label: "A model grades the answer", on: false, setting: { key: "rubric", label: "What a good answer does", value: "" } },
    { type: "cost", label: "Costs at most (USD)", on: false, setting: { key: "max_usd", label: "Dollars", value: "0.01", numeric: true } },
    { type: "latency", label: "Takes at most (ms)", on: false, setting: { key: "max_ms", label: "Milliseconds", value: "5000", numeric: true } },
  ];
}

export function toScorers(choices: ScorerChoice[]): Record<string, unknown>[] {
  return choices.filter((c) => c.on).map((c) => {
    const out: Record<string, unknown> = { type: c.type };
    if (c.setting) out[c.setting.key] = c.setting.numeric ? Number(c.setting.value) : c.setting.value;
    return out;
  });
}

export function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? "–" : `${(value * 100).toFixed(1)} %`;
}

export function interval(low: number | null | undefined, high: number | null | undefined, asPercent = true): string {
  if (low === null || low === undefined || high === null || high === undefined) return "";
  const show = (v: number) => (asPercent ? percent(v) : v.toFixed(2));
  return `(${show(low)} to ${show(high)})`;
}

export function signed(delta: number | null | undefined, unit: "usd" | "ms" | "rate"): string {
  if (delta === null || delta === undefined) return "–";
  const sign = delta > 0 ? "+" : delta < 0 ? "−" : "±";
  const size = Math.abs(delta);
  if (unit === "usd") return `${sign}$${size.toFixed(6)}`;
  if (unit === "ms") return `${sign}${Math.round(size)} ms`;
  return `${sign}${(size * 100).toFixed(1)} points`;
}
