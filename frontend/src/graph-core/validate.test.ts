import { describe, expect, it } from "vitest";
import { outPorts } from "./ports";
import { pinProblems, plainMessage } from "./problems";
import { catalogue } from "./testCatalogue";
import type { GraphSpec, JsonObject } from "./types";
import { checkConnection, structuralProblems } from "./validate";

const nodes: { id: string; type: string; config?: JsonObject }[] = [
  { id: "input", type: "input" },
  { id: "a", type: "llm", config: { model: "fast", prompt: "x" } },
  { id: "b", type: "llm", config: { model: "fast", prompt: "y" } },
  { id: "g", type: "gate", config: { check: { kind: "regex", value: "v", pattern: "p" } } },
  { id: "output", type: "output", config: { value: "1" } },
];
const edges = [
  { from: "input", to: "a" },
  { from: "a", to: "b" },
];

describe("an edge is refused as it is drawn", () => {
  it("accepts a forward edge and names its port", () => {
    expect(checkConnection(nodes, edges, "b", null, "output", catalogue)).toEqual({ ok: true, port: "out" });
  });
  it("refuses a loop and spells it out", () => {
    const check = checkConnection(nodes, edges, "b", "out", "a", catalogue);
    expect(check.ok).toBe(false);
    expect(check.reason).toContain("a → b → a");
  });
  it("refuses anything after the output", () => {
    expect(checkConnection(nodes, edges, "output", null, "b", catalogue).reason).toMatch(/nothing can follow it/);
  });
  it("refuses anything into the input", () => {
    expect(checkConnection(nodes, edges, "a", "out", "input", catalogue).reason).toMatch(/nothing can feed it/);
  });
  it("refuses an unknown port", () => {
    expect(checkConnection(nodes, edges, "g", "maybe", "b", catalogue).reason).toMatch(/no exit called “maybe”.*pass, fail/);
  });
  it("refuses a step feeding itself and a duplicate", () => {
    expect(checkConnection(nodes, edges, "a", "out", "a", catalogue).reason).toMatch(/cannot feed itself/);
    expect(checkConnection(nodes, edges, "a", "out", "b", catalogue).reason).toMatch(/already connected/);
  });
  it("allows both exits of a gate to the same step", () => {
    const e = [...edges, { from: "g", to: "b", port: "pass" }];
    expect(checkConnection(nodes, e, "g", "fail", "b", catalogue)).toEqual({ ok: true, port: "fail" });
    expect(checkConnection(nodes, e, "g", "pass", "b", catalogue).ok).toBe(false);
  });
});

describe("router ports come from its config", () => {
  it("lists route labels then default", () => {
    expect(outPorts({ type: "router", config: { routes: [{ label: "billing" }, { label: "tech" }] } }, catalogue))
      .toEqual(["billing", "tech", "default"]);
    expect(outPorts({ type: "router", config: {} }, catalogue)).toEqual(["default"]);
    expect(outPorts({ type: "output" }, catalogue)).toEqual([]);
  });
});

describe("structural problems use the server's paths", () => {
  const spec = (patch: Partial<GraphSpec>): GraphSpec => ({ schema: "patchbay.graph/v1", name: "t", nodes, edges, ...patch });

  it("a sound graph has none", () => {
    expect(structuralProblems(spec({ edges: [...edges, { from: "b", to: "output" }] }), catalogue)).toEqual([]);
  });
  it("reports loops, bad ports, missing nodes, edges into the input, duplicate ids, missing output", () => {
    const problems = structuralProblems(spec({
      nodes: [...nodes.slice(0, 4), { id: "a", type: "llm", config: { model: "x" } }],
      edges: [
        { from: "input", to: "a" }, { from: "a", to: "b" }, { from: "b", to: "a" },
        { from: "g", to: "b", port: "nope" }, { from: "a", to: "input" }, { from: "ghost", to: "a" },
      ],
    }), catalogue);
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p.message]));
    expect(byPath["nodes[4].id"]).toMatch(/already has the id 'a'/);
    expect(byPath["nodes"]).toMatch(/exactly one output/);
    expect(byPath["edges[2]"]).toMatch(/closes a loop: a → b → a/);
    expect(byPath["edges[3].port"]).toMatch(/no port 'nope'/);
    expect(byPath["edges[4]"]).toMatch(/nothing can feed it/);
    expect(byPath["edges[5].from"]).toMatch(/does not exist/);
  });
  it("reports a required config field that is missing", () => {
    const problems = structuralProblems(spec({ nodes: [...nodes.slice(0, 4), { id: "output", type: "output", config: {} }] }), catalogue);
    expect(problems).toContainEqual({ path: "nodes[4].config", message: "'value' is required", node_id: "output" });
  });
});

describe("server problems are pinned to a node and a field, in plain words", () => {
  const spec: GraphSpec = { schema: "patchbay.graph/v1", name: "t", nodes, edges };
  it("pins validate paths and save paths alike", () => {
    const [p1, p2, p3] = pinProblems([
      { path: "nodes[1].config.model", message: "unknown model alias 'fastest' (known: fast, frontier)", node_id: "a" },
      { path: "spec.nodes[3].config.check.pattern", message: "not a valid pattern: x" },
      { path: "spec.edges[1]", message: "duplicate edge a → b" },
    ], spec, catalogue);
    expect(p1).toMatchObject({ nodeId: "a", field: "model", text: "Model: there is no model called “fastest”; pick one of: fast, frontier" });
    expect(p2).toMatchObject({ nodeId: "g", field: "check.pattern", text: "Pattern the value must contain (regex): not a valid pattern: x" });
    expect(p3).toMatchObject({ nodeId: null, edgeIndex: 1, text: "Connection a → b: duplicate edge a → b" });
  });
  it("pins a missing required field to the field itself", () => {
    const [p] = pinProblems([{ path: "nodes[1].config", message: "'model' is required", node_id: "a" }], spec, catalogue);
    expect(p).toMatchObject({ nodeId: "a", field: "model", text: "Model: this must be filled in" });
  });
  it("rewords engine messages", () => {
    expect(plainMessage("'model' is required")).toBe("“Model” must be filled in");
    expect(plainMessage("reads node 'x', which is not upstream of 'y': connect x to y first"))
      .toBe("uses the result of “x”, but “x” does not come before “y”: connect x to y first");
  });
});
