/**
 * Why a run stopped at its budget, in plain words. The engine words the reason for engineers and
 * tests (engine/budget.py: "... would exceed max_cost_usd=1e-05 ..."); the run header says it the
 * way the budget form names the limits. Anything else is shown as the engine wrote it.
 */
import { money } from "../format";

const usd = (text: string) => money(Number(text));

const RULES: [RegExp, (m: RegExpExecArray) => string][] = [
  [/the next model call \(est\. \$([\d.e+-]+)\) would exceed max_cost_usd=([\d.e+-]+) \(\$([\d.e+-]+) already committed\)/,
    (m) => `the next model call (about ${usd(m[1])}) would have taken the run past its cost limit of ${usd(m[2])}; it had spent ${usd(m[3])}`],
  [/spent \$([\d.e+-]+), over max_cost_usd=([\d.e+-]+)/,
    (m) => `the run spent ${usd(m[1])}, more than its cost limit of ${usd(m[2])}`],
  [/a model call would exceed max_llm_calls=(\d+) \((\d+) made\)/,
    (m) => `the run reached its limit of ${m[1]} model call${m[1] === "1" ? "" : "s"}`],
  [/the run took longer than max_seconds=([\d.e+-]+)/,
    (m) => `the run took longer than its time limit of ${Number(m[1])} s`],
];

/** Which limit stopped the run, in words ("the run reached its limit of 5 model calls"); null when not a budget stop. */
export function budgetClause(error: string | null | undefined): string | null {
  if (!error) return null;
  for (const [pattern, words] of RULES) {
    const m = pattern.exec(error);
    if (m) return words(m);
  }
  return null;
}

/** "Stopped at the budget: <which limit>." for the run header and a step's card; null when not a budget stop. */
export function budgetReason(error: string | null | undefined): string | null {
  const clause = budgetClause(error);
  return clause ? `Stopped at the budget: ${clause}.` : null;
}
