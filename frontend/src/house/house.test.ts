/** The front end's house rules, checked from the sources (the TypeScript compiler parses them). */
import { describe, expect, it } from "vitest";
import { functionSpans, importCycles, productSources } from "./sources";

const MAX_FUNCTION_LINES = 80;

describe("the house rules of frontend/src", () => {
  const sources = productSources();

  it("finds the sources it measures", () => {
    expect(sources.map((s) => s.path)).toContain("pages/EditorPage.tsx");
  });

  it(`has no function over ${MAX_FUNCTION_LINES} lines`, () => {
    const long = sources.flatMap(functionSpans).filter((f) => f.lines > MAX_FUNCTION_LINES);
    expect(long.map((f) => `${f.path}:${f.line} ${f.name} (${f.lines} lines)`)).toEqual([]);
  });

  it("has no import circle", () => {
    expect(importCycles(sources).map((c) => c.join(" → "))).toEqual([]);
  });

  it("keeps the editor page small", () => {
    const page = sources.find((s) => s.path === "pages/EditorPage.tsx")!;
    expect(page.file.getLineAndCharacterOfPosition(page.file.getEnd()).line).toBeLessThan(150);
  });
});
