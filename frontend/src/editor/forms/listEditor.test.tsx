// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, it } from "vitest";
import type { JsonObject, JsonSchema, PinnedProblem } from "../../graph-core";
import { ConfigForm } from "../SchemaForm";
import type { FormContext } from "./context";

// The router's config schema as GET /api/node-types/ serves it (backend/engine/nodes/router.py).
const ROUTER: JsonSchema = {
  type: "object",
  properties: {
    mode: { enum: ["llm", "rules"], default: "llm", title: "How to decide" },
    input: { type: "string", title: "What to route", format: "template", default: "{{ input }}" },
    routes: {
      type: "array", title: "Routes", minItems: 1, maxItems: 20,
      items: {
        type: "object",
        properties: {
          label: { type: "string", pattern: "^[a-z][a-z0-9_]{0,39}$", title: "Label" },
          description: { type: "string", title: "When to take it", maxLength: 500 },
          keywords: { type: "array", items: { type: "string" }, title: "Keywords (rules)" },
        },
        required: ["label"], additionalProperties: false,
      },
    },
    classifier: { type: "object", title: "Classifier", properties: { model: { type: "string", title: "Model" }, prompt: { type: "string", format: "template" } } },
  },
  required: ["routes"],
};

const context: FormContext = {
  models: [{ alias: "fast", model: "demo/fast", demo: true, enabled: true, fallbacks: [], input_cost_per_mtok: 0, output_cost_per_mtok: 0, description: "" } as never],
  graphs: [], graphId: null, workspace: null, nodeId: "classify", joinable: [], onGraphsChanged: () => undefined,
  suggestions: [{ insert: "input.message", detail: "flow input" }],
};

function problem(field: string, text: string, severity: "error" | "warning" = "error"): PinnedProblem {
  return { nodeId: "classify", edgeIndex: null, field, text, path: `nodes[1].config.${field}`, message: text, severity };
}

/** The form as the inspector holds it: every change goes back in as the new value. */
function renderForm(initial: JsonObject, problems: PinnedProblem[] = []) {
  const seen: JsonObject[] = [];
  function Host() {
    const [value, setValue] = useState(initial);
    return <ConfigForm schema={ROUTER} value={value} problems={problems} context={context}
      onChange={(v) => { seen.push(v); setValue(v); }} />;
  }
  render(<Host />);
  return { last: () => seen[seen.length - 1] };
}

const byId = (id: string) => screen.getByTestId(id);
const type = (id: string, text: string) => act(() => { fireEvent.change(byId(id), { target: { value: text } }); });
const click = (id: string) => act(() => { fireEvent.click(byId(id)); });
const routes = (v: JsonObject | undefined) => (v?.routes as JsonObject[]).map((r) => r.label);

afterEach(cleanup);

describe("the list editor of a router's routes", () => {
  it("adds routes and gives each a field per property", () => {
    const form = renderForm({ routes: [], classifier: { model: "fast" } });
    click("cfg-classify-routes-add");
    type("cfg-classify-routes.0.label", "billing");
    type("cfg-classify-routes.0.description", "Money matters");
    click("cfg-classify-routes-add");
    type("cfg-classify-routes.1.label", "technical");
    expect(form.last()!.routes).toEqual([{ label: "billing", description: "Money matters" }, { label: "technical" }]);
    expect(form.last()!.classifier).toEqual({ model: "fast" });
  });

  it("moves routes up and down and removes them", () => {
    const form = renderForm({ routes: [{ label: "a" }, { label: "b" }, { label: "c" }] });
    expect((byId("cfg-classify-routes.0-up") as HTMLButtonElement).disabled).toBe(true);
    expect((byId("cfg-classify-routes.2-down") as HTMLButtonElement).disabled).toBe(true);
    click("cfg-classify-routes.2-up");
    expect(routes(form.last())).toEqual(["a", "c", "b"]);
    click("cfg-classify-routes.0-down");
    expect(routes(form.last())).toEqual(["c", "a", "b"]);
    click("cfg-classify-routes.1-remove");
    expect(routes(form.last())).toEqual(["c", "b"]);
    expect((byId("cfg-classify-routes.1.label") as HTMLInputElement).value).toBe("b");
  });

  it("keeps what it was given: opening the form writes no defaults", () => {
    const form = renderForm({ routes: [{ label: "a" }] });
    expect(form.last()).toBeUndefined();
    type("cfg-classify-routes.0.label", "ab");
    expect(form.last()).toEqual({ routes: [{ label: "ab" }] });
  });

  it("puts each problem beside the field it names, once", () => {
    const problems = [problem("routes[1].label", "Label: label 'a' is used twice"), problem("classifier", "Classifier: needs a model"),
      problem("@id", "Step name: bad")];
    renderForm({ routes: [{ label: "a" }, { label: "a" }] }, problems);
    const beside = byId("cfg-classify-routes.1").querySelectorAll("[data-testid=field-problem]");
    expect([...beside].map((e) => e.textContent)).toEqual(["Label: label 'a' is used twice"]);
    expect(byId("cfg-classify-routes.0").querySelectorAll("[data-testid=field-problem]")).toHaveLength(0);
    expect(byId("cfg-classify-classifier").parentElement!.textContent).toContain("Classifier: needs a model");
    const all = screen.getAllByTestId("field-problem").map((e) => e.textContent);
    expect(all.sort()).toEqual(["Classifier: needs a model", "Label: label 'a' is used twice", "Step name: bad"]);
  });

  it("shows a warning beside its field in the warning style, not as an error", () => {
    renderForm({ routes: [{ label: "a" }], input: "{{ nodes.x.output }}" }, [problem("input", "What to route: reads x", "warning")]);
    expect(screen.queryAllByTestId("field-problem")).toHaveLength(0);
    const warning = screen.getByTestId("field-warning");
    expect(warning.textContent).toBe("Warning: What to route: reads x");
    expect(warning.closest("[data-field]")!.getAttribute("data-field")).toBe("cfg-classify-input");
    expect(byId("cfg-classify-input").className).not.toContain("invalid");
  });

  it("shows the classifier's model picker in the form itself", () => {
    renderForm({ routes: [{ label: "a" }], classifier: { model: "fast" } });
    expect((byId("cfg-classify-classifier.model") as HTMLSelectElement).value).toBe("fast");
  });
});
