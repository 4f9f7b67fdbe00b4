import { describe, expect, it } from "vitest";
import { addNode, type Doc } from "./edits";
import { defaultsFromSchema, initialConfig, starterConfig } from "./schema";
import { catalogue } from "./testCatalogue";
import type { JsonSchema } from "./types";

const routerSchema: JsonSchema = {
  type: "object", required: ["routes"],
  properties: {
    mode: { enum: ["llm", "rules"], default: "llm" },
    input: { type: "string", format: "template", default: "{{ input }}" },
    routes: { type: "array", items: { type: "object" } },
    threshold: { type: "number", default: 0.5 },
    classifier: { type: "object", properties: { model: { type: "string" } } },
  },
};

describe("defaultsFromSchema", () => {
  it("takes every declared default and nothing else", () => {
    expect(defaultsFromSchema(routerSchema)).toEqual({ mode: "llm", input: "{{ input }}", threshold: 0.5 });
    expect(defaultsFromSchema({ type: "object" })).toEqual({});
  });

  it("reads the graph's first input field instead of the whole input", () => {
    expect(defaultsFromSchema(routerSchema, { inputField: "text" }).input).toBe("{{ input.text }}");
  });

  it("copies defaults so editing a step never changes the catalogue", () => {
    const schema: JsonSchema = { properties: { tags: { type: "array", default: ["a"] } } };
    (defaultsFromSchema(schema).tags as string[]).push("b");
    expect(schema.properties?.tags.default).toEqual(["a"]);
  });
});

describe("initialConfig and starterConfig", () => {
  it("fills defaults, then required fields without one", () => {
    const schema: JsonSchema = { required: ["model", "n"], properties: {
      model: { type: "string" }, n: { type: "integer", minimum: 1 }, tie: { enum: ["first", "none"], default: "first" } } };
    expect(initialConfig(schema, { model: "fast" })).toEqual({ model: "fast", n: 1, tie: "first" });
  });

  it("starts a router with two example routes and its defaults", () => {
    const config = starterConfig("router", routerSchema, { inputField: "text" });
    expect(config.mode).toBe("llm");
    expect(config.input).toBe("{{ input.text }}");
    expect((config.routes as { label: string }[]).map((r) => r.label)).toEqual(["question", "request"]);
    expect(config.classifier).toBeUndefined();  // no model known: the form asks for one
    expect(starterConfig("router", routerSchema, { model: "fast" }).classifier).toEqual({ model: "fast" });
  });

  it("gives a dropped router ports for its starter routes", () => {
    const doc: Doc = { meta: { schema: "patchbay.graph/v1", name: "t", inputs: { type: "object", properties: { message: { type: "string" } } } },
      nodes: [], edges: [] };
    const { doc: next, id } = addNode(doc, catalogue, "router", { x: 0, y: 0 });
    const node = next.nodes.find((n) => n.id === id);
    expect((node?.data.config?.routes as unknown[]).length).toBe(2);
  });
});
