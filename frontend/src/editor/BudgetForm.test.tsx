// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pinProblems, type GraphSpec } from "../graph-core";
import { catalogue } from "../graph-core/testCatalogue";
import { budgetReason } from "../live/budgetWords";
import { useGraph } from "../stores/graphStore";
import { BudgetForm } from "./BudgetForm";
import { FlowSettings } from "./FlowSettings";

const spec: GraphSpec = {
  schema: "patchbay.graph/v1", name: "capped", budget: { max_llm_calls: 4 },
  nodes: [{ id: "input", type: "input" }, { id: "out", type: "output" }], edges: [{ from: "input", to: "out" }],
};

const box = (limit: string) => screen.getByTestId(`cfg-flow-budget-${limit}`) as HTMLInputElement;
const type = (limit: string, text: string) => act(() => { fireEvent.change(box(limit), { target: { value: text } }); });
const budget = () => useGraph.getState().spec().budget;

/** What POST /api/graphs/validate/ answers for this budget (engine/validation.py BUDGET_SCHEMA's words). */
function serverSays(problems: { path: string; message: string }[]) {
  act(() => useGraph.getState().setProblems(pinProblems(problems, useGraph.getState().spec(), catalogue)));
}

beforeEach(() => useGraph.getState().load({ graphId: 1, spec: structuredClone(spec), catalogue, version: 1 }));
afterEach(cleanup);

describe("the flow's budget form", () => {
  it("shows the saved limits and writes each box into the spec's budget, as numbers", () => {
    render(<BudgetForm />);
    expect(box("max_llm_calls").value).toBe("4");
    expect(box("max_cost_usd").value).toBe("");
    type("max_cost_usd", "0.");  // on the way to 0.05: nothing half-typed is lost
    type("max_cost_usd", "0.05");
    type("max_seconds", "30");
    expect(budget()).toEqual({ max_llm_calls: 4, max_cost_usd: 0.05, max_seconds: 30 });
    expect(box("max_cost_usd").value).toBe("0.05");
  });

  it("leaves the budget out of the spec when every box is emptied", () => {
    render(<BudgetForm />);
    type("max_llm_calls", "");
    expect(budget()).toBeUndefined();
    expect("budget" in useGraph.getState().spec()).toBe(false);
  });

  it("keeps whole numbers whole for the model-call limit", () => {
    render(<BudgetForm />);
    type("max_llm_calls", "7");
    expect(budget()).toEqual({ max_llm_calls: 7 });
  });

  it("pins the server's problems beside the box at fault, in plain words, and not again in the flow's list", () => {
    render(<FlowSettings />);
    type("max_cost_usd", "0");
    serverSays([{ path: "spec.budget.max_cost_usd", message: "0 is less than or equal to the minimum of 0" },
                { path: "spec.budget.max_seconds", message: "100000 is greater than the maximum of 86400" },
                { path: "spec.name", message: "at most 200 characters" }]);
    const form = screen.getByTestId("budget-form");
    const costField = box("max_cost_usd").closest(".field, .form-group, div")!.parentElement!;
    expect(costField.textContent).toContain("must be more than 0");
    expect(box("max_cost_usd").className).toContain("invalid");
    expect(box("max_seconds").className).toContain("invalid");
    expect(box("max_llm_calls").className).not.toContain("invalid");
    expect(form.textContent).toContain("must be at most 86400");
    const settings = screen.getByTestId("flow-settings");
    // Each budget problem once (beside its box); the name's problem stays in the flow's own list.
    expect(settings.textContent!.split("must be more than 0").length - 1).toBe(1);
    expect(form.textContent).not.toContain("200 characters");
    expect(settings.textContent).toContain("200 characters");
  });
});

describe("why a run stopped at its budget, in plain words", () => {
  it("says each limit as the form names it", () => {
    expect(budgetReason("the next model call (est. $0.000021) would exceed max_cost_usd=1e-05 ($0.000000 already committed)"))
      .toBe("Stopped at the budget: the next model call (about $0.000021) would have taken the run past its cost limit of $0.000010; it had spent $0.");
    expect(budgetReason("spent $0.120000, over max_cost_usd=0.1")).toBe("Stopped at the budget: the run spent $0.12, more than its cost limit of $0.10.");
    expect(budgetReason("a model call would exceed max_llm_calls=1 (1 made)")).toBe("Stopped at the budget: the run reached its limit of 1 model call.");
    expect(budgetReason("the run took longer than max_seconds=2.5")).toBe("Stopped at the budget: the run took longer than its time limit of 2.5 s.");
  });

  it("leaves other errors alone", () => {
    expect(budgetReason("Model 'fast' timed out after 30 s")).toBeNull();
    expect(budgetReason(null)).toBeNull();
  });
});
