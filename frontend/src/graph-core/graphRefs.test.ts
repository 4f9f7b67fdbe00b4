import { describe, expect, it } from "vitest";
import { parseGraphRef, pinnedRef, portableRefs, refLabel, withRefNames, type GraphChoice } from "./graphRefs";
import type { GraphSpec } from "./types";

const graphs: GraphChoice[] = [
  { id: 12, name: "shouter", workspace: 1, latest: 3 },
  { id: 15, name: "other", workspace: 1, latest: 1 },
];

function spec(ref: Record<string, string>): GraphSpec {
  return {
    schema: "patchbay.graph/v1", name: "caller", edges: [],
    nodes: [
      { id: "call", type: "subgraph", config: { subgraph: { ...ref } } },
      // a reference inside an inline subgraph is found too
      { id: "inline", type: "subgraph", config: { subgraph: { spec: { nodes: [{ id: "x", type: "subgraph", config: { subgraph: { ...ref } } }] } } } },
    ],
  };
}
const refs = (s: GraphSpec) => [
  (s.nodes[0].config as any).subgraph,
  (s.nodes[1].config as any).subgraph.spec.nodes[0].config.subgraph,
];

describe("graph references", () => {
  it("parses the pinned and the name form, whole strings only", () => {
    expect(parseGraphRef("#12@3")).toEqual({ graphId: 12, version: 3 });
    expect(parseGraphRef("shouter@3")).toEqual({ name: "shouter", version: 3 });
    expect(parseGraphRef("shouter@3\n")).toBeNull();
    expect(parseGraphRef("shouter@²")).toBeNull();
    expect(pinnedRef(12, 3)).toBe("#12@3");
  });

  it("shows the current name of a pinned graph", () => {
    expect(refLabel("#12@3", graphs)).toBe("shouter · v3");
    expect(refLabel("#99@1", graphs)).toMatch(/not in this workspace/);
  });

  it("exports the names and imports them back here by id, elsewhere by name", () => {
    const exported = withRefNames(spec({ graph: "#12@2" }), graphs);
    expect(refs(exported)).toEqual([{ graph: "#12@2", name: "shouter" }, { graph: "#12@2", name: "shouter" }]);
    expect(refs(portableRefs(exported, graphs, 1))).toEqual([{ graph: "#12@2" }, { graph: "#12@2" }]);
    const elsewhere = [{ id: 40, name: "shouter", workspace: 2, latest: 2 }];
    expect(refs(portableRefs(exported, elsewhere, 2))).toEqual([{ graph: "shouter@2" }, { graph: "shouter@2" }]);
  });
});
