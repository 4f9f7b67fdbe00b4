// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, it } from "vitest";
import type { JsonObject } from "../../graph-core";
import { ConfigForm } from "../SchemaForm";
import type { FormContext } from "./context";

const OUTPUT = { type: "object", properties: { value: { title: "Value", description: "A template, or an object of templates." } }, required: ["value"] };

function renderOutput(initial: JsonObject) {
  const seen: JsonObject[] = [];
  const context: FormContext = {
    models: [], graphs: [], graphId: null, workspace: null, nodeId: "out", onGraphsChanged: () => undefined,
    joinable: ["billing_reply", "tech_reply", "general_reply", "classify"],
    suggestions: [{ insert: "nodes.billing_reply.output", detail: "result of billing_reply (llm)" }],
  };
  function Host() {
    const [value, setValue] = useState(initial);
    return <ConfigForm schema={OUTPUT} value={value} problems={[]} context={context} onChange={(v) => { seen.push(v); setValue(v); }} />;
  }
  render(<Host />);
  return { last: () => seen[seen.length - 1] };
}

const click = (id: string) => act(() => { fireEvent.click(screen.getByTestId(id)); });

afterEach(cleanup);

describe("the output's “whichever of these ran” control", () => {
  it("writes a join of the ticked steps, in the order ticked", () => {
    const form = renderOutput({ value: "" });
    expect((screen.getByTestId("branch-join-apply") as HTMLButtonElement).disabled).toBe(true);
    click("branch-join-tech_reply");
    click("branch-join-billing_reply");
    click("branch-join-general_reply");
    click("branch-join-apply");
    expect(form.last()).toEqual({ value: "{{ nodes.tech_reply.output | default(nodes.billing_reply.output) | default(nodes.general_reply.output) }}" });
    expect((screen.getByTestId("cfg-out-value") as HTMLTextAreaElement).value).toContain("default(nodes.billing_reply.output)");
  });

  it("starts from the join already written, and un-ticking leaves it out", () => {
    const form = renderOutput({ value: "{{ nodes.billing_reply.output | default(nodes.tech_reply.output) }}" });
    expect((screen.getByTestId("branch-join-billing_reply") as HTMLInputElement).checked).toBe(true);
    click("branch-join-general_reply");
    click("branch-join-billing_reply");
    click("branch-join-apply");
    expect(form.last()).toEqual({ value: "{{ nodes.tech_reply.output | default(nodes.general_reply.output) }}" });
  });

  it("gives the value field the same completion chips as a prompt", () => {
    const form = renderOutput({ value: "Answer: " });
    act(() => { fireEvent.mouseDown(screen.getByText("nodes.billing_reply.output", { selector: "button" })); });
    expect(String(form.last()!.value)).toContain("{{ nodes.billing_reply.output }}");
  });
});
