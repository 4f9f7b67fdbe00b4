import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { canvasToSpec, specToCanvas } from "./convert";
import { catalogue } from "./testCatalogue";
import type { GraphSpec } from "./types";

const GRAPHS = join(__dirname, "..", "..", "..", "graphs");
const files = readdirSync(GRAPHS).filter((f) => f.endsWith(".json")).sort();

describe("spec ⇄ canvas for every example graph", () => {
  it("finds the example graphs", () => {
    expect(files.length).toBeGreaterThan(0);
  });

  for (const file of files) {
    const spec = JSON.parse(readFileSync(join(GRAPHS, file), "utf8")) as GraphSpec;

    it(`${file}: spec → canvas → spec is lossless`, () => {
      const canvas = specToCanvas(structuredClone(spec), catalogue);
      expect(canvas.nodes).toHaveLength(spec.nodes.length);
      expect(canvas.edges).toHaveLength((spec.edges ?? []).length);
      expect(canvasToSpec(canvas, catalogue)).toEqual(spec);
    });

    it(`${file}: canvas → spec → canvas is lossless`, () => {
      const canvas = specToCanvas(structuredClone(spec), catalogue);
      const again = specToCanvas(canvasToSpec(canvas, catalogue), catalogue);
      expect(again).toEqual(canvas);
    });

    it(`${file}: every edge is drawn from a real port of its source`, () => {
      const canvas = specToCanvas(spec, catalogue);
      for (const edge of canvas.edges) {
        const source = spec.nodes.find((n) => n.id === edge.source)!;
        const ports = catalogue[source.type]?.out_ports ?? ["out"];
        expect(ports.length === 0 || edge.sourceHandle === null || typeof edge.sourceHandle === "string").toBe(true);
      }
    });
  }
});

describe("what the canvas keeps", () => {
  const base: GraphSpec = {
    schema: "patchbay.graph/v1", name: "keep", futureField: { a: 1 },
    nodes: [
      { id: "input", type: "input" },
      { id: "g", type: "gate", position: [10, 20], config: { check: { kind: "regex", value: "x", pattern: "y" } }, label: "Check" },
      { id: "r", type: "router", position: [0, 0], config: { routes: [{ label: "billing" }, { label: "tech" }] }, note: "kept" },
      { id: "output", type: "output", position: [5, 5], config: { value: "{{ input }}" } },
    ],
    edges: [
      { from: "input", to: "g" },
      { from: "g", to: "r", port: "pass" },
      { from: "r", to: "output", port: "tech", weight: 2 },
    ],
  };

  it("keeps unknown fields, labels, missing positions and missing ports", () => {
    expect(canvasToSpec(specToCanvas(structuredClone(base), catalogue), catalogue)).toEqual(base);
  });

  it("draws a port-less edge from the source's first port", () => {
    const canvas = specToCanvas(base, catalogue);
    expect(canvas.edges[0].sourceHandle).toBe("out");
    expect(canvas.edges[2].sourceHandle).toBe("tech");
  });

  it("writes a position once a placed node is moved", () => {
    const canvas = specToCanvas(structuredClone(base), catalogue);
    canvas.nodes[0].position = { x: 42, y: 7 };
    expect(canvasToSpec(canvas, catalogue).nodes[0].position).toEqual([42, 7]);
  });

  it("writes the port when an edge is re-attached to another exit", () => {
    const canvas = specToCanvas(structuredClone(base), catalogue);
    canvas.edges[1].sourceHandle = "fail";
    expect(canvasToSpec(canvas, catalogue).edges[1].port).toBe("fail");
  });

  it("leaves out the port of a new edge from a single-exit step", () => {
    const canvas = specToCanvas(structuredClone(base), catalogue);
    canvas.edges.push({ id: "new", source: "input", target: "output", sourceHandle: "out", data: {} });
    expect(canvasToSpec(canvas, catalogue).edges[3]).toEqual({ from: "input", to: "output" });
  });

  it("keeps a document without an edges key as it was", () => {
    const spec = { schema: "patchbay.graph/v1", name: "x", nodes: [{ id: "output", type: "output", config: { value: "1" } }] } as unknown as GraphSpec;
    expect(canvasToSpec(specToCanvas(structuredClone(spec), catalogue), catalogue)).toEqual(spec);
  });
});
