/** What the Models page says about an alias's breaker, health and trips: plain words, computed, not stored. */
import type { BreakerState, ModelEvent, ModelHealth, ModelOverview } from "../api/types";
import { duration, money } from "../format";

/** The breaker in words, relative to `nowS` (epoch seconds): an open circuit counts down to its probe. */
export function breakerWords(b: BreakerState, policy: ModelOverview["breaker"], nowS: number): { label: string; tone: "ok" | "warn" | "bad" | "muted" } {
  if (!policy) return { label: "No breaker", tone: "muted" };
  if (b.state === "unknown") return { label: "Unknown (Redis unreachable: calls go through)", tone: "warn" };
  if (b.state === "half_open") return { label: "Half-open: the next call probes", tone: "warn" };
  if (b.state === "open") {
    const left = b.until === null ? null : Math.max(0, Math.ceil(b.until - nowS));
    return { label: left ? `Open: calls skip it, probes again in ${left} s` : "Open: the next call probes", tone: "bad" };
  }
  const counted = b.failures ? ` (${b.failures} of ${policy.failures} failures counted)` : "";
  return { label: `Closed${counted}`, tone: b.failures ? "warn" : "ok" };
}

/** The policy in one line: "opens after 5 failures in 60 s, for 30 s". */
export function policyWords(policy: ModelOverview["breaker"]): string {
  if (!policy) return "no circuit breaker";
  return `opens after ${policy.failures} failure${policy.failures === 1 ? "" : "s"} in ${policy.window_s} s, for ${policy.cooldown_s} s`;
}

export function percent(rate: number | null): string {
  if (rate === null) return "—";
  const p = rate * 100;
  return `${p === 0 || p >= 10 ? p.toFixed(0) : p.toFixed(1)}%`;
}

/** The health numbers as label/value pairs, "—" where there were no calls. */
export function healthFacts(h: ModelHealth): [string, string][] {
  const none = h.calls === 0;
  return [
    ["Calls (24 h)", String(h.calls)],
    ["Error rate", percent(h.error_rate)],
    ["p50", none ? "—" : duration(h.p50_ms)],
    ["p95", none ? "—" : duration(h.p95_ms)],
    ["Spend today", money(h.spend_today_usd)],
    ["Fell back", String(h.fallbacks)],
  ];
}

const EVENT_WORDS: Record<ModelEvent["kind"], string> = {
  tripped: "Circuit opened",
  reopened: "Probe failed, opened again",
  recovered: "Probe succeeded, closed",
};

export function eventWords(e: ModelEvent): string {
  return EVENT_WORDS[e.kind] ?? e.kind;
}

/** Move the fallback at `index` one place up (-1) or down (+1); out-of-range moves change nothing. */
export function moveFallback(list: string[], index: number, step: -1 | 1): string[] {
  const to = index + step;
  if (index < 0 || index >= list.length || to < 0 || to >= list.length) return list;
  const next = [...list];
  [next[index], next[to]] = [next[to], next[index]];
  return next;
}

/** A price field's text as the API wants it: empty means "use litellm's price map" (null). */
export function priceValue(text: string): number | null {
  const trimmed = text.trim();
  return trimmed === "" ? null : Number(trimmed);
}
