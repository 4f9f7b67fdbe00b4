import { describe, expect, it } from "vitest";
import { bySeverity, pinProblems, plainMessage } from "./problems";
import { catalogue } from "./testCatalogue";
import type { GraphSpec } from "./types";

const spec: GraphSpec = { schema: "patchbay.graph/v1", name: "g", nodes: [{ id: "in", type: "input" }, { id: "r", type: "router" }, { id: "out", type: "output" }], edges: [] };

describe("problems in plain words, errors apart from warnings", () => {
  it("says what a step or route name may be made of", () => {
    expect(plainMessage("'Technical!' does not match '^[a-z][a-z0-9_]{0,39}$'")).toBe(
      "“Technical!” is not a usable name: lowercase letters, digits and _, starting with a letter (at most 40)");
  });

  it("pins a route's problem to that route's field and keeps a warning a warning", () => {
    const pinned = pinProblems([
      { path: "nodes[1].config.routes[1].label", message: "label 'a' is used twice", node_id: "r" },
      { path: "nodes[2].config.value", node_id: "out", severity: "warning",
        message: "reads 'b', which runs only when router 'r' takes 'b'; on other paths 'out' still runs and this fails: write {{ nodes.b.output | default('') }} or test nodes.b.ran" },
    ], spec, catalogue);
    expect(pinned[0]).toMatchObject({ nodeId: "r", field: "routes[1].label", severity: "error" });
    expect(pinned[1]).toMatchObject({ nodeId: "out", field: "value", severity: "warning" });
    expect(pinned[1].text).toContain("uses the result of “b”, which runs only when router 'r' takes 'b'");
    const { errors, warnings } = bySeverity(pinned);
    expect(errors.map((p) => p.nodeId)).toEqual(["r"]);
    expect(warnings.map((p) => p.nodeId)).toEqual(["out"]);
  });
});
