import { describe, expect, it } from "vitest";
import { cacheWords, canvasStepCounts, elapsedMs, failureWords, inputPreview, resultView } from "./runFigures";

describe("elapsedMs", () => {
  it("never goes below zero when the browser's clock is behind the server's", () => {
    expect(elapsedMs({ totals: null, startedAt: 10_002, finishedAt: null }, 10_000)).toBe(0);
    expect(elapsedMs({ totals: null, startedAt: 10_000, finishedAt: null }, 10_250)).toBe(250);
  });
  it("uses the engine's duration once the run has totals, and nothing before the start", () => {
    expect(elapsedMs({ totals: { duration_ms: 1234 }, startedAt: 1, finishedAt: 2 }, 99)).toBe(1234);
    expect(elapsedMs({ totals: { duration_ms: null }, startedAt: 1000, finishedAt: 1600 }, 99_999)).toBe(600);
    expect(elapsedMs({ totals: null, startedAt: null, finishedAt: null }, 5)).toBeNull();
  });
});

describe("canvasStepCounts", () => {
  it("counts only the steps on the canvas, not those inside a subgraph", () => {
    const nodes = {
      input: { status: "succeeded" as const, text: "" },
      qa: { status: "running" as const, text: "" },
      "qa/answer": { status: "running" as const, text: "" },
      "qa/input": { status: "succeeded" as const, text: "" },
      output: { status: "queued" as const, text: "" },
    };
    expect(canvasStepCounts(nodes, ["input", "qa", "output"])).toEqual({ succeeded: 1, running: 1, queued: 1 });
  });
});

describe("resultView", () => {
  it("shows text as text and anything else as indented JSON", () => {
    expect(resultView("Hello")).toEqual({ kind: "text", text: "Hello" });
    expect(resultView({ a: 1 })).toEqual({ kind: "json", text: '{\n  "a": 1\n}' });
    expect(resultView(0)).toEqual({ kind: "json", text: "0" });
    expect(resultView(null)).toEqual({ kind: "empty" });
  });
});

describe("failureWords", () => {
  it("says why in words, and nothing for a success", () => {
    expect(failureWords("failed", "model 'fast' failed")).toBe("The run failed: model 'fast' failed");
    expect(failureWords("cancelled", null)).toMatch(/stopped/);
    expect(failureWords("succeeded", null)).toBeNull();
    expect(failureWords("budget_exceeded", "a model call would exceed max_llm_calls=2 (2 made)"))
      .toBe("The run went over its budget and was stopped: the run reached its limit of 2 model calls.");
    expect(failureWords("budget_exceeded", "stopped by the caller's subgraph")).toBe("The run went over its budget and was stopped: stopped by the caller's subgraph");
  });
});

describe("inputPreview", () => {
  it("shows a single field's value, several as name: value, cut to length", () => {
    expect(inputPreview({ message: "I was\n charged twice" })).toBe("I was charged twice");
    expect(inputPreview({ a: "x", b: 2 })).toBe("a: x · b: 2");
    expect(inputPreview({ text: "y".repeat(100) }, 10)).toBe(`${"y".repeat(9)}…`);
    expect(inputPreview("plain")).toBe("plain");
  });
});

describe("cacheWords", () => {
  it("says how many answers came from the cache and what they saved", () => {
    expect(cacheWords({ cache_hits: 2, saved_usd: 0.0031 })).toBe("cached: 2 · saved $0.0031");
    expect(cacheWords({ cache_hits: 1, saved_usd: 1.5 })).toBe("cached: 1 · saved $1.50");
  });

  it("says nothing when no answer came from the cache", () => {
    expect(cacheWords({ cache_hits: 0, saved_usd: 0 })).toBeNull();
    expect(cacheWords({})).toBeNull();
    expect(cacheWords(null)).toBeNull();
  });

  it("reads a run from before saved totals as having saved nothing", () => {
    expect(cacheWords({ cache_hits: 3 })).toBe("cached: 3 · saved $0");
  });
});
