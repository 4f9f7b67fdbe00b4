/** The API key form's rules, apart from the page: what is sent for what was typed, and the problems shown. */
import type { ApiKeyInput } from "../api/types";

export interface KeyFormValues {
  name: string;
  scopes: string[];
  rate: string;
  cap: string;
}

/** The body to send, or the problems by field (the same paths the server uses). */
export function keyInput(values: KeyFormValues): { input: ApiKeyInput } | { problems: Record<string, string> } {
  const problems: Record<string, string> = {};
  const input: ApiKeyInput = { name: values.name.trim(), scopes: values.scopes };
  if (!input.name) problems.name = "Give the key a name, e.g. the app that will use it";
  if (values.rate.trim()) {
    const rate = Number(values.rate);
    if (!Number.isInteger(rate) || rate < 1) problems.rate_limit_per_minute = "A whole number of calls, 1 or more";
    else input.rate_limit_per_minute = rate;
  }
  if (values.cap.trim()) {
    const cap = Number(values.cap);
    if (!Number.isFinite(cap) || cap < 0) problems.daily_max_cost_usd = "An amount in US dollars, 0 or more";
    else input.daily_max_cost_usd = cap;
  }
  return Object.keys(problems).length ? { problems } : { input };
}

/** The scopes column: "all endpoints" for an unscoped key. */
export function scopeWords(scopes: string[]): string {
  return scopes.length ? scopes.map((s) => `/${s}`).join(", ") : "all endpoints";
}
