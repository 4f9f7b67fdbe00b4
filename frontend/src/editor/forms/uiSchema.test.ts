import { describe, expect, it } from "vitest";
import { formSchema, hiddenFields, singular, uiSchemaFor } from "./uiSchema";

const STEP = {
  type: "object",
  properties: {
    model: { type: "string" }, prompt: { type: "string", format: "template" },
    subgraph: { type: "object", properties: { graph: { type: "string", format: "graph-ref" }, spec: { type: "object" } } },
    input: { title: "Subgraph input" },
    params: { type: "object", properties: { stop: { type: "array", items: { type: "string" } } } },
  },
};

describe("the uiSchema read off a config schema", () => {
  it("picks our widgets and fields by what a property is", () => {
    const ui = uiSchemaFor("", STEP);
    expect(ui.model).toEqual({ "ui:widget": "model" });
    expect(ui.prompt).toMatchObject({ "ui:widget": "template", "ui:options": { rows: 8 } });
    expect(ui.subgraph).toEqual({ "ui:field": "subgraphRef" });
    expect(ui.input).toEqual({ "ui:field": "templateValue" });
    expect(ui.params.stop).toEqual({ "ui:field": "stringList" });
    expect(ui.params["ui:options"]).toMatchObject({ folded: true });
  });

  it("lists objects with an Add button named for one item", () => {
    const ui = uiSchemaFor("routes", { type: "array", title: "Routes", items: { type: "object", properties: { label: { type: "string" } } } });
    expect(ui["ui:options"]).toEqual({ itemTitle: "route" });
    expect([singular("Branches"), singular("Routes"), singular("branches"), singular("Sections")]).toEqual(["branch", "route", "branch", "section"]);
  });

  it("shows a step's subgraph input only once it runs a subgraph, unless it holds a value", () => {
    const { companions } = uiSchemaFor("", STEP)["ui:options"] as { companions: Record<string, string> };
    expect([...hiddenFields([], { model: "fast" }, companions)]).toEqual(["input"]);
    expect([...hiddenFields([], { subgraph: { graph: "#1@1" } }, companions)]).toEqual([]);
    expect([...hiddenFields([], { input: "{{ input }}" }, companions)]).toEqual([]);
  });

  it("hands rjsf the schema without its conditionals, however deep", () => {
    const schema = formSchema({ type: "object", properties: { check: { type: "object", allOf: [{ if: {}, then: {} }], properties: {} } } });
    expect(schema.properties!.check.allOf).toBeUndefined();
  });
});
