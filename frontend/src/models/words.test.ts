import { describe, expect, it } from "vitest";
import type { BreakerState, ModelHealth } from "../api/types";
import { breakerWords, eventWords, healthFacts, moveFallback, percent, policyWords, priceValue } from "./words";

const policy = { failures: 5, window_s: 60, cooldown_s: 30 };
const b = (state: BreakerState["state"], until: number | null = null, failures = 0): BreakerState => ({ state, until, failures, last_error: "" });

describe("breakerWords", () => {
  it("counts an open circuit down to its probe", () => {
    expect(breakerWords(b("open", 1012.2), policy, 1000)).toEqual({ label: "Open: calls skip it, probes again in 13 s", tone: "bad" });
  });
  it("says the next call probes once the cooldown is over", () => {
    expect(breakerWords(b("open", 990), policy, 1000).label).toBe("Open: the next call probes");
    expect(breakerWords(b("half_open"), policy, 1000).label).toBe("Half-open: the next call probes");
  });
  it("shows failures counted toward a trip while closed", () => {
    expect(breakerWords(b("closed", null, 2), policy, 0)).toEqual({ label: "Closed (2 of 5 failures counted)", tone: "warn" });
    expect(breakerWords(b("closed"), policy, 0)).toEqual({ label: "Closed", tone: "ok" });
  });
  it("names an alias without a breaker and a breaker Redis cannot tell", () => {
    expect(breakerWords(b("closed"), null, 0).label).toBe("No breaker");
    expect(breakerWords(b("unknown"), policy, 0).tone).toBe("warn");
  });
});

describe("policy and health words", () => {
  it("describes the policy", () => {
    expect(policyWords(policy)).toBe("opens after 5 failures in 60 s, for 30 s");
    expect(policyWords({ ...policy, failures: 1 })).toBe("opens after 1 failure in 60 s, for 30 s");
    expect(policyWords(null)).toBe("no circuit breaker");
  });
  it("formats rates", () => {
    expect(percent(null)).toBe("—");
    expect(percent(0)).toBe("0%");
    expect(percent(0.0123)).toBe("1.2%");
    expect(percent(2 / 7)).toBe("29%");
  });
  it("shows dashes for latency when there were no calls", () => {
    const h: ModelHealth = { calls: 0, failed: 0, fallbacks: 0, error_rate: null, p50_ms: null, p95_ms: null, spend_today_usd: 0, last_error: "", last_error_at: null };
    const facts = Object.fromEntries(healthFacts(h));
    expect(facts["p95"]).toBe("—");
    expect(facts["Error rate"]).toBe("—");
    const busy = Object.fromEntries(healthFacts({ ...h, calls: 4, failed: 1, error_rate: 0.25, p50_ms: 120, p95_ms: 2500, spend_today_usd: 0.5 }));
    expect(busy).toMatchObject({ "Calls (24 h)": "4", "Error rate": "25%", p50: "120 ms", p95: "2.50 s", "Spend today": "$0.50" });
  });
  it("names breaker events", () => {
    expect(eventWords({ kind: "reopened", detail: "", at: "" })).toBe("Probe failed, opened again");
  });
});

describe("editing helpers", () => {
  it("reorders fallbacks and ignores moves off the ends", () => {
    expect(moveFallback(["a", "b", "c"], 2, -1)).toEqual(["a", "c", "b"]);
    expect(moveFallback(["a", "b", "c"], 0, 1)).toEqual(["b", "a", "c"]);
    const list = ["a", "b"];
    expect(moveFallback(list, 0, -1)).toBe(list);
    expect(moveFallback(list, 1, 1)).toBe(list);
  });
  it("reads an empty price as 'use the price map'", () => {
    expect(priceValue("  ")).toBeNull();
    expect(priceValue("0.15")).toBe(0.15);
  });
});
