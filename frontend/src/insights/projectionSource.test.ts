import { describe, expect, it } from "vitest";
import type { Dataset } from "../api/evals";
import { projectionBody, sourceOptions, sourceWords } from "./projectionSource";

const ds = (id: number, name: string, items: number | null) => ({ id, name, items }) as Dataset;

describe("the cost projection's source of inputs", () => {
  it("sends the recent runs by default and a dataset's id when one is picked", () => {
    expect(projectionBody("recent")).toEqual({ recent: 50 });
    expect(projectionBody("dataset:12")).toEqual({ dataset: 12 });
    expect(projectionBody("dataset:")).toEqual({ recent: 50 }); // never a malformed body
  });

  it("offers every dataset with its size, an empty one switched off", () => {
    const options = sourceOptions([ds(3, "support questions", 42), ds(4, "empty", 0), ds(5, "one", 1)]);
    expect(options.map((o) => o.label)).toEqual(["The last 50 runs", "Dataset “support questions” (42 items)",
      "Dataset “empty” (0 items)", "Dataset “one” (1 item)"]);
    expect(options.map((o) => o.disabled)).toEqual([false, false, true, false]);
    expect(options[1].value).toBe("dataset:3");
  });

  it("says what will be dry-run", () => {
    const datasets = [ds(3, "support questions", 42)];
    expect(sourceWords("recent", datasets)).toBe("the inputs of the last 50 runs");
    expect(sourceWords("dataset:3", datasets)).toBe("the inputs of the items of the dataset “support questions”");
  });
});
