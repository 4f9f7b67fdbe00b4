import { describe, expect, it } from "vitest";
import { ApiError } from "../../api/client";
import { gateReason, gateRefusal, points } from "./gateWording";

const refused = (problem: Record<string, unknown>) =>
  new ApiError(409, "eval_gate", "The eval gate refused version 3: …", [{ path: "version", message: "the pass rate drops", ...problem }]);

describe("the eval gate's refusal", () => {
  it("is read only from a 409 eval_gate", () => {
    expect(gateRefusal(new ApiError(409, "conflict", "x"))).toBeNull();
    expect(gateRefusal(new ApiError(400, "eval_gate", "x"))).toBeNull();
    expect(gateRefusal(new Error("x"))).toBeNull();
    expect(gateRefusal(refused({ baseline_pass_rate: 0.8, candidate_pass_rate: 0.62, drop: 0.18, threshold: 0.05 })))
      .toMatchObject({ baseline: 0.8, candidate: 0.62, drop: 0.18, threshold: 0.05 });
  });

  it("says the drop in points, against production, and what is allowed", () => {
    const r = gateRefusal(refused({ baseline_pass_rate: 0.8, candidate_pass_rate: 0.62, drop: 0.18, threshold: 0.05 }))!;
    expect(gateReason(r)).toBe("Held-out evals: pass rate 62 % against 80 % on production — a drop of 18 points, more than the 5 allowed.");
  });

  it("keeps a decimal where it matters and never prints float noise", () => {
    expect(points(0.055)).toBe("5.5");
    expect(points(0.1 + 0.2)).toBe("30");
    expect(points(0.6666666)).toBe("66.7");
    const r = gateRefusal(refused({ baseline_pass_rate: 0.9, candidate_pass_rate: 0.7, drop: null, threshold: 0.025 }))!;
    expect(gateReason(r)).toContain("a drop of 20 points, more than the 2.5 allowed");
  });

  it("says a version without a finished eval must be evaluated first", () => {
    const r = gateRefusal(refused({ baseline_pass_rate: 0.75, candidate_pass_rate: null, drop: null, threshold: 0.05 }))!;
    expect(gateReason(r)).toMatch(/no finished eval .* production passes 75 %/);
  });

  it("falls back on the server's words when the numbers are missing", () => {
    const r = gateRefusal(new ApiError(409, "eval_gate", "The gate said no.", []))!;
    expect(gateReason(r)).toBe("Held-out evals: The gate said no.");
  });
});
