import { describe, expect, it } from "vitest";
import { configSummary } from "./summaries";

describe("configSummary", () => {
  it("names a router's routes, the default last", () => {
    const config = { routes: [{ label: "billing", description: "" }, { label: "technical", description: "bugs" }] };
    expect(configSummary("router", config)).toBe("3 routes: billing, technical, default");
    expect(configSummary("router", { mode: "rules", routes: [] })).toBe("1 route (by rules): default");
    expect(configSummary("router", { routes: "[not a list]" })).toBe("1 route: default");
  });

  it("says how a vote decides", () => {
    expect(configSummary("vote", { samples: 5, aggregate: "majority" })).toBe("5 samples, majority");
    expect(configSummary("vote", { samples: 7, aggregate: "threshold", k: 4 })).toBe("7 samples, 4 needed");
    expect(configSummary("vote", {})).toBe("5 samples, majority");
  });

  it("counts and names parallel branches", () => {
    const branches = [{ name: "a", step: {} }, { name: "b", step: {} }, { name: "c", step: {} }];
    expect(configSummary("parallel", { branches })).toBe("3 branches: a, b, c");
    expect(configSummary("parallel", { branches: [{ name: "only", step: {} }] })).toBe("1 branch: only");
  });

  it("describes the loop patterns", () => {
    expect(configSummary("orchestrator", { max_workers: 3 })).toBe("plan, up to 3 workers, then combine");
    expect(configSummary("evaluator_optimizer", { max_iterations: 1 })).toBe("write and judge, up to 1 round");
  });

  it("leaves other step types to the card", () => {
    expect(configSummary("llm", { prompt: "hi" })).toBeNull();
    expect(configSummary("output", undefined)).toBeNull();
  });

  it("says which branches an output joins, and what an inline subgraph holds", () => {
    const value = "{{ nodes.billing.output | default(nodes.tech.output) | default(nodes.general.output) }}";
    expect(configSummary("output", { value })).toBe("whichever ran: billing, tech, general");
    expect(configSummary("output", { value: "{{ nodes.billing.output }}" })).toBeNull();
    const spec = { name: "qa", nodes: [{ id: "input" }, { id: "answer" }, { id: "output" }] };
    expect(configSummary("subgraph", { subgraph: { spec } })).toBe("inline flow “qa”: 3 steps");
    expect(configSummary("subgraph", { subgraph: { graph: "#3@1" } })).toBeNull();
  });
});
