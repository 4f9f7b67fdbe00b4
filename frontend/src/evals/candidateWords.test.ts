import { describe, expect, it } from "vitest";
import { candidateWords, modelSteps } from "./candidateWords";

describe("candidateWords", () => {
  it("says what the eval tried", () => {
    expect(candidateWords(null)).toBe("");
    expect(candidateWords({ name: "greet", ref: "greet@4" })).toBe("with prompt greet@4");
    expect(candidateWords({ node: "fix", model: "fast", was: "frontier" })).toBe("with fast for step fix (instead of frontier)");
  });
});

describe("modelSteps", () => {
  it("lists the model steps with their model", () => {
    const spec = { schema: "patchbay.graph/v1", name: "f", nodes: [
      { id: "input", type: "input" }, { id: "triage", type: "router", config: { classifier: { model: "fast" } } },
      { id: "fix", type: "llm", config: { model: "frontier" } }], edges: [] };
    expect(modelSteps(spec as never)).toEqual([{ id: "fix", model: "frontier" }]);
    expect(modelSteps(null)).toEqual([]);
  });
});
