import { describe, expect, it } from "vitest";
import { canvasToSpec } from "./convert";
import { addNode, copySelection, deleteSelected, openSpec, paste, renameNode, rewriteNodeRefs, selectOnly, type Doc } from "./edits";
import { catalogue } from "./testCatalogue";
import type { GraphSpec } from "./types";

const spec: GraphSpec = {
  schema: "patchbay.graph/v1",
  name: "rename",
  nodes: [
    { id: "input", type: "input" },
    { id: "draft", type: "llm", config: { model: "fast", prompt: "Write about {{ input.topic }}" } },
    { id: "draft_2", type: "llm", config: { model: "fast", prompt: "Polish {{ nodes.draft.output }} and {{nodes.draft_2.output}}" } },
    { id: "out", type: "output", config: { value: "{{ nodes.draft_2.output }}", extra: ["nodes.draft.output", { deep: "{{ nodes.draft }}" }] } },
  ],
  edges: [{ from: "input", to: "draft" }, { from: "draft", to: "draft_2" }, { from: "draft_2", to: "out" }],
};

function doc(): Doc {
  const canvas = openSpec(structuredClone(spec), catalogue);
  return { meta: canvas.meta, nodes: canvas.nodes, edges: canvas.edges };
}

function specOf(d: Doc): GraphSpec {
  return canvasToSpec({ ...d }, catalogue);
}

describe("renameNode", () => {
  it("renames the step, its edges and every template that names it, and nothing that only starts like it", () => {
    const result = renameNode(doc(), "draft", "first");
    if ("error" in result) throw new Error(result.error);
    const out = specOf(result.doc);
    expect(out.nodes.map((n) => n.id)).toEqual(["input", "first", "draft_2", "out"]);
    expect(out.edges).toEqual([{ from: "input", to: "first" }, { from: "first", to: "draft_2" }, { from: "draft_2", to: "out" }]);
    expect(out.nodes[2].config?.prompt).toBe("Polish {{ nodes.first.output }} and {{nodes.draft_2.output}}");
    expect(out.nodes[3].config).toEqual({ value: "{{ nodes.draft_2.output }}", extra: ["nodes.first.output", { deep: "{{ nodes.first }}" }] });
  });

  it("refuses a taken name or one that is not an identifier, and leaves the document alone", () => {
    const before = doc();
    expect(renameNode(before, "draft", "draft_2")).toEqual({ error: "Another step is already called “draft_2”." });
    expect(renameNode(before, "draft", "2nd")).toHaveProperty("error");
    expect(renameNode(before, "draft", "has space")).toHaveProperty("error");
    expect(specOf(before)).toEqual(spec);
  });

  it("keeps the document as it was when the name does not change", () => {
    const before = doc();
    expect(renameNode(before, "draft", "draft")).toEqual({ doc: before });
  });
});

describe("rewriteNodeRefs", () => {
  it("treats the old name literally, not as a pattern", () => {
    expect(rewriteNodeRefs("{{ nodes.a_b.output }} {{ nodes.aXb.output }}", "a.b", "c")).toBe("{{ nodes.a_b.output }} {{ nodes.aXb.output }}");
    expect(rewriteNodeRefs(undefined, "a", "b")).toBeUndefined();
  });
});

describe("copy and paste", () => {
  it("pastes the selection under fresh names with the edges between them, and the next paste lands further on", () => {
    const selected = { ...doc(), ...selectOnly(doc(), "draft") };
    selected.nodes = selected.nodes.map((n) => (n.id === "draft_2" ? { ...n, selected: true } : n));
    const clip = copySelection(selected)!;
    expect(clip.nodes.map((n) => n.id)).toEqual(["draft", "draft_2"]);
    expect(clip.edges).toHaveLength(1);
    const once = paste(selected, clip);
    expect(once.count).toBe(2);
    expect(once.doc.nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(["draft_3", "draft_2_2"]);
    const pastedEdge = once.doc.edges[once.doc.edges.length - 1];
    expect([pastedEdge.source, pastedEdge.target]).toEqual(["draft_3", "draft_2_2"]);
    const twice = paste(once.doc, once.next);
    const first = once.doc.nodes.find((n) => n.id === "draft_3")!;
    const second = twice.doc.nodes.find((n) => n.id === "draft_4")!;
    expect(second.position).toEqual({ x: first.position.x + 40, y: first.position.y + 40 });
  });

  it("copies nothing when nothing is selected", () => {
    expect(copySelection(doc())).toBeNull();
    expect(deleteSelected(doc())).toBeNull();
  });
});

describe("addNode and deleteSelected", () => {
  it("adds a selected step with the default model, then deletes it with its edges", () => {
    const added = addNode(doc(), catalogue, "llm", { x: 0, y: 0 }, "fast");
    expect(added.id).toBe("step");
    expect(added.doc.nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(["step"]);
    expect(added.doc.nodes.find((n) => n.id === "step")!.data.config).toMatchObject({ model: "fast", prompt: "" });
    const back = deleteSelected(added.doc)!;
    expect(specOf(back)).toEqual(spec);
  });
});
