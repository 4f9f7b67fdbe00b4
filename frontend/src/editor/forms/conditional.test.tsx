// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, it } from "vitest";
import type { JsonObject, JsonSchema } from "../../graph-core";
import { ConfigForm } from "../SchemaForm";
import type { FormContext } from "./context";

// The gate's check (backend/engine/nodes/gate.py): which field it needs depends on its kind.
const GATE: JsonSchema = {
  type: "object", required: ["check"],
  properties: {
    check: {
      type: "object", title: "Check", required: ["kind", "value"],
      properties: {
        kind: { enum: ["json_schema", "regex", "compare"], title: "Kind of check" },
        value: { title: "Value" },
        schema: { type: "object", title: "JSON schema the value must match" },
        pattern: { type: "string", title: "Pattern the value must contain (regex)" },
        op: { enum: ["eq", "not_empty"], title: "Comparison" },
      },
      allOf: [
        { if: { properties: { kind: { const: "json_schema" } } }, then: { required: ["schema"] } },
        { if: { properties: { kind: { const: "regex" } } }, then: { required: ["pattern"] } },
        { if: { properties: { kind: { const: "compare" } } }, then: { required: ["op"] } },
      ],
    },
    message: { type: "string", title: "Message when it fails", format: "template" },
  },
};

const context: FormContext = { models: [], graphs: [], graphId: null, workspace: null, nodeId: "gate", joinable: [],
  onGraphsChanged: () => undefined, suggestions: [{ insert: "input.text", detail: "flow input" }] };

function renderGate(initial: JsonObject) {
  const seen: JsonObject[] = [];
  function Host() {
    const [value, setValue] = useState(initial);
    return <ConfigForm schema={GATE} value={value} problems={[]} context={context} onChange={(v) => { seen.push(v); setValue(v); }} />;
  }
  render(<Host />);
  return { last: () => seen[seen.length - 1] };
}

afterEach(cleanup);

describe("conditional fields (allOf if/then on a const)", () => {
  it("shows only the field the chosen kind needs, and follows a change of kind", () => {
    const form = renderGate({ check: { kind: "regex", value: "{{ input.text }}" } });
    expect(screen.queryByTestId("cfg-gate-check.pattern")).not.toBeNull();
    expect(screen.queryByTestId("cfg-gate-check.op")).toBeNull();
    expect(screen.queryByTestId("cfg-gate-check.schema")).toBeNull();
    act(() => { fireEvent.change(screen.getByTestId("cfg-gate-check.kind"), { target: { value: JSON.stringify("compare") } }); });
    expect(form.last()).toEqual({ check: { kind: "compare", value: "{{ input.text }}" } });
    expect(screen.queryByTestId("cfg-gate-check.pattern")).toBeNull();
    expect(screen.queryByTestId("cfg-gate-check.op")).not.toBeNull();
  });

  it("keeps a field that holds a value visible, so nothing is hidden and lost", () => {
    renderGate({ check: { kind: "compare", value: "x", pattern: "^a" } });
    expect((screen.getByTestId("cfg-gate-check.pattern") as HTMLInputElement).value).toBe("^a");
  });

  it("gives the failure message, a template, completion chips", () => {
    renderGate({ check: { kind: "regex", value: "x" } });
    const field = screen.getByTestId("cfg-gate-message").closest(".template-field")!;
    expect(field.querySelector(".insert-chips")!.textContent).toContain("input.text");
  });
});
