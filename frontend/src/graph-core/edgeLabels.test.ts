import { describe, expect, it } from "vitest";
import { labelPoint, labelStacks, labelWidth, LABEL_ROW_PX } from "./edgeLabels";

const overlap = (a: { x: number; y: number; w: number }, b: { x: number; y: number; w: number }) =>
  Math.abs(a.x - b.x) < (a.w + b.w) / 2 && Math.abs(a.y - b.y) < LABEL_ROW_PX - 2;

describe("edge labels", () => {
  it("stack labels that arrive at the same step, in the order of their exits", () => {
    const edges = [
      { id: "e-tech", source: "route", sourceHandle: "technical", target: "join" },
      { id: "e-bill", source: "route", sourceHandle: "billing", target: "join" },
      { id: "e-def", source: "route", sourceHandle: "default", target: "general" },
    ];
    const stacks = labelStacks(edges, () => ["billing", "technical", "default"]);
    expect(stacks).toEqual({ "e-bill": 0, "e-tech": 1, "e-def": 0 });
  });

  it("puts two labels into one step where they do not overlap each other", () => {
    const from = { x: 200, y: 100 };
    const to = { x: 600, y: 140 };
    const a = { ...labelPoint("billing", 0, from, to)!, w: labelWidth("billing") };
    const b = { ...labelPoint("technical", 1, { x: 200, y: 125 }, to)!, w: labelWidth("technical") };
    expect(overlap(a, b)).toBe(false);
  });

  it("never puts a label on its exit's own label: with no room before the next step, there is none", () => {
    const from = { x: 200, y: 100 };
    expect(labelPoint("billing", 0, from, { x: 300, y: 100 })).toBeNull();
    const p = labelPoint("billing", 0, from, { x: 400, y: 100 })!;
    const exitLabelRight = from.x + 12 + labelWidth("billing");
    expect(p.x - labelWidth("billing") / 2).toBeGreaterThan(exitLabelRight);
    expect(p.x + labelWidth("billing") / 2).toBeLessThan(400);
  });

  it("sits just before a step that is far away", () => {
    const p = labelPoint("default", 0, { x: 0, y: 0 }, { x: 1000, y: 300 })!;
    expect(p.y).toBe(300);
    expect(p.x + labelWidth("default") / 2).toBeLessThanOrEqual(1000);
    expect(p.x).toBeGreaterThan(900);
  });
});
