import { describe, expect, it } from "vitest";
import type { SpendStatus } from "../api/types";
import { filtering } from "../editor/RunFilterRow";
import { spendWords } from "./SpendCapPanel";

const status = (spend: number, cap: number | null): SpendStatus => ({
  workspace: 1, monthly_cap_usd: cap, warn_at_fraction: 0.8, spend_this_month: spend, month_start: "2026-11-01T00:00:00Z",
  refused_this_month: 0, warning: false, reached: false,
});

describe("the month's spend in words", () => {
  it("says the share of the cap", () => {
    expect(spendWords(status(1.2, 5))).toBe("$1.20 of $5.00 this month (24%)");
  });
  it("says there is no cap, and does not divide by a zero cap", () => {
    expect(spendWords(status(0.5, null))).toBe("$0.50 this month, no cap");
    expect(spendWords(status(0, 0))).toBe("$0 of $0 this month");
  });
});

describe("run filters", () => {
  it("count as filtering only when one narrows the list", () => {
    expect(filtering({})).toBe(false);
    expect(filtering({ status: "", source: "", q: "" })).toBe(false);
    expect(filtering({ q: "req-1" })).toBe(true);
    expect(filtering({ source: "openai" })).toBe(true);
  });
});
