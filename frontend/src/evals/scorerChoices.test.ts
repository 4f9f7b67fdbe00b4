import { describe, expect, it } from "vitest";
import { defaultChoices, interval, percent, signed, toScorers } from "./scorerChoices";

describe("scorer choices", () => {
  it("turns the ticked boxes into scorers, numbers as numbers", () => {
    const choices = defaultChoices().map((c) => (c.type === "cost" ? { ...c, on: true } : c));
    expect(toScorers(choices)).toEqual([{ type: "exact" }, { type: "cost", max_usd: 0.01 }]);
  });
  it("writes rates, intervals and deltas in words people read", () => {
    expect(percent(0.75)).toBe("75.0 %");
    expect(percent(null)).toBe("–");
    expect(interval(0.3006, 0.9544)).toBe("(30.1 % to 95.4 %)");
    expect(signed(-0.1, "rate")).toBe("−10.0 points");
    expect(signed(12.4, "ms")).toBe("+12 ms");
    expect(signed(0, "usd")).toBe("±$0.000000");
  });
});
