import { describe, expect, it } from "vitest";
import { heat, percent, routeChoices } from "./numbers";

describe("insights numbers", () => {
  it("words shares as percentages and says when there is no data", () => {
    expect(percent(0.256)).toBe("26 %");
    expect(percent(null)).toBe("no data");
    expect(percent(0)).toBe("0 %");
  });
  it("colours right answers green and wrong ones red, stronger with their share", () => {
    expect(heat(0, 5, true)).toBe("transparent");
    expect(heat(5, 5, true)).toBe("rgba(34, 160, 90, 0.75)");
    expect(heat(1, 4, false)).toBe("rgba(210, 60, 60, 0.30)");
  });
  it("offers a router's routes with default last, once", () => {
    expect(routeChoices({ routes: [{ label: "billing" }, { label: "technical" }] })).toEqual(["billing", "technical", "default"]);
    expect(routeChoices(undefined)).toEqual(["default"]);
  });
});
