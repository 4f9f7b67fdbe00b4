import { describe, expect, it } from "vitest";
import { diffSpecs, lineDiff } from "./diff";
import { layoutGraph, NODE_HEIGHT, NODE_WIDTH } from "./layout";
import { applySuggestion, openPlaceholder, templateSuggestions } from "./templates";
import { initialConfig, uniqueId } from "./schema";
import type { GraphSpec } from "./types";

describe("auto-layout", () => {
  const nodes = ["input", "a", "b", "c", "output"].map((id) => ({ id }));
  const edges = [
    { source: "input", target: "a" }, { source: "input", target: "b" },
    { source: "a", target: "c" }, { source: "b", target: "c" }, { source: "c", target: "output" },
  ];
  const pos = layoutGraph(nodes, edges);

  it("places every node, left to right in running order", () => {
    expect(Object.keys(pos).sort()).toEqual(["a", "b", "c", "input", "output"]);
    for (const e of edges) expect(pos[e.target].x).toBeGreaterThan(pos[e.source].x);
  });
  it("never overlaps two nodes", () => {
    const ids = Object.keys(pos);
    for (const i of ids) for (const j of ids) {
      if (i >= j) continue;
      const apart = Math.abs(pos[i].x - pos[j].x) >= NODE_WIDTH || Math.abs(pos[i].y - pos[j].y) >= NODE_HEIGHT;
      expect(apart, `${i} and ${j} overlap`).toBe(true);
    }
  });
  it("lays out 300 nodes quickly", () => {
    const many = Array.from({ length: 300 }, (_, i) => ({ id: `n${i}` }));
    const links = many.slice(1).map((n, i) => ({ source: `n${Math.floor(i / 3)}`, target: n.id }));
    const t0 = performance.now();
    const p = layoutGraph(many, links);
    expect(Object.keys(p)).toHaveLength(300);
    expect(performance.now() - t0).toBeLessThan(3000);
  });
});

describe("diff between versions", () => {
  const v1: GraphSpec = { schema: "patchbay.graph/v1", name: "d", nodes: [
    { id: "input", type: "input", position: [0, 0] },
    { id: "a", type: "llm", position: [200, 0], config: { model: "fast", prompt: "line one\nline two" } },
    { id: "output", type: "output", position: [400, 0], config: { value: "{{ nodes.a.output }}" } },
  ], edges: [{ from: "input", to: "a" }, { from: "a", to: "output" }] };
  const v2: GraphSpec = { ...v1, name: "d2", nodes: [
    { id: "input", type: "input", position: [0, 10] },
    { id: "a", type: "llm", position: [200, 0], config: { model: "frontier", prompt: "line one\nline 2" } },
    { id: "b", type: "transform", position: [300, 0], config: { value: "x" } },
    { id: "output", type: "output", position: [400, 0], config: { value: "{{ nodes.a.output }}" } },
  ], edges: [{ from: "input", to: "a" }, { from: "a", to: "b" }, { from: "b", to: "output" }] };

  const d = diffSpecs(v1, v2);
  it("lists nodes added, removed and changed, and edges", () => {
    expect(d.added.map((n) => n.id)).toEqual(["b"]);
    expect(d.removed).toEqual([]);
    expect(d.changed.map((c) => [c.id, c.movedOnly])).toEqual([["input", true], ["a", false]]);
    expect(d.edgesAdded).toHaveLength(2);
    expect(d.edgesRemoved).toEqual([{ from: "a", to: "output" }]);
    expect(d.settings.map((s) => s.path)).toEqual(["name"]);
    expect(diffSpecs(v1, structuredClone(v1)).same).toBe(true);
  });
  it("diffs prompt text line by line", () => {
    const prompt = d.changed[1].changes.find((c) => c.path === "config.prompt")!;
    expect(prompt.lines).toEqual([{ op: "same", text: "line one" }, { op: "del", text: "line two" }, { op: "add", text: "line 2" }]);
    expect(lineDiff("a\nb\nc", "a\nc")).toEqual([{ op: "same", text: "a" }, { op: "del", text: "b" }, { op: "same", text: "c" }]);
  });
});

describe("template completion and new nodes", () => {
  const spec = {
    inputs: { type: "object", properties: { text: { type: "string", title: "Note" } } },
    nodes: [{ id: "input", type: "input" }, { id: "a", type: "llm" }, { id: "b", type: "llm" }, { id: "c", type: "llm" }],
    edges: [{ from: "input", to: "a" }, { from: "a", to: "b" }],
  };
  it("offers input fields and upstream nodes only", () => {
    expect(templateSuggestions(spec, "b").map((s) => s.insert)).toEqual(["input.text", "nodes.a.output"]);
    expect(templateSuggestions(spec, "c").map((s) => s.insert)).toEqual(["input.text"]);
  });
  it("completes an open placeholder", () => {
    expect(openPlaceholder("Hi {{ inp", 9)).toEqual({ start: 5, typed: "inp" });
    expect(openPlaceholder("Hi {{ x }} y", 12)).toBeNull();
    expect(applySuggestion("Hi {{ inp", 9, "input.text")).toEqual({ text: "Hi {{ input.text }}", caret: 19 });
    expect(applySuggestion("Hi ", 3, "input.text").text).toBe("Hi {{ input.text }}");
  });
  it("starts a node with its required fields and a free id", () => {
    expect(initialConfig({ required: ["model"], properties: { model: { type: "string" } } }, { model: "fast" })).toEqual({ model: "fast" });
    expect(uniqueId("llm", ["llm", "llm_2"])).toBe("llm_3");
    expect(uniqueId("3d", [])).toBe("n_3d");
  });
});
