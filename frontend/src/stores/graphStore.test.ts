import { beforeEach, describe, expect, it } from "vitest";
import { catalogue } from "../graph-core/testCatalogue";
import type { GraphSpec } from "../graph-core";
import { useGraph } from "./graphStore";

const spec: GraphSpec = {
  schema: "patchbay.graph/v1",
  name: "dirty",
  nodes: [
    { id: "input", type: "input" },
    { id: "draft", type: "llm", config: { model: "fast", prompt: "Write about {{ input.topic }}" } },
  ],
  edges: [{ from: "input", to: "draft" }],
};

const dirty = () => useGraph.getState().revision !== useGraph.getState().savedRevision;

describe("unsaved changes compare with the saved content", () => {
  beforeEach(() => useGraph.getState().load({ graphId: 1, spec: structuredClone(spec), catalogue, version: 3 }));

  it("are gone after undoing back to the saved flow, however many edits it took", () => {
    const g = useGraph.getState();
    g.updateConfig("draft", { model: "fast", prompt: "one" });
    useGraph.getState().updateConfig("draft", { model: "fast", prompt: "two" });
    useGraph.getState().select("draft");
    expect(dirty()).toBe(true);
    useGraph.getState().undo();
    expect(dirty()).toBe(true);
    useGraph.getState().undo();
    expect(dirty()).toBe(false);
    useGraph.getState().redo();
    expect(dirty()).toBe(true);
  });

  it("follow the last save, not the load", () => {
    useGraph.getState().updateConfig("draft", { model: "fast", prompt: "saved" });
    useGraph.getState().markSaved(4);
    useGraph.getState().updateConfig("draft", { model: "fast", prompt: "after" });
    useGraph.getState().undo();
    expect(dirty()).toBe(false);
    useGraph.getState().undo();  // back to version 3's content: now that differs from what is saved
    expect(dirty()).toBe(true);
  });

  it("stay for a new flow that was never saved", () => {
    useGraph.getState().load({ graphId: null, spec: structuredClone(spec), catalogue, version: null, dirty: true });
    useGraph.getState().updateConfig("draft", { model: "fast", prompt: "x" });
    useGraph.getState().undo();
    expect(dirty()).toBe(true);
  });
});
