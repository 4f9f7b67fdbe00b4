import { describe, expect, it } from "vitest";
import type { VersionSummary } from "../api/types";
import { foldedLabel, foldHistory } from "./historyFolding";

const v = (number: number, reason: "save" | "run"): VersionSummary =>
  ({ number, reason, content_hash: "", author: "alice", message: "", created_at: "2026-11-28T10:00:00Z" });

describe("foldHistory", () => {
  it("folds consecutive run-made versions between saves, keeping the current one apart", () => {
    const rows = foldHistory([v(7, "run"), v(6, "run"), v(5, "run"), v(4, "save"), v(3, "run"), v(2, "save"), v(1, "save")]);
    expect(rows.map((r) => (r.kind === "runs" ? r.versions.map((x) => x.number) : r.version.number))).toEqual([7, [6, 5], 4, [3], 2, 1]);
    expect(rows[0]).toMatchObject({ kind: "version", current: true });
    expect(rows[2]).toMatchObject({ kind: "version", current: false });
  });
  it("leaves a history of saves as it is", () => {
    expect(foldHistory([v(2, "save"), v(1, "save")]).every((r) => r.kind === "version")).toBe(true);
    expect(foldHistory([])).toEqual([]);
  });
  it("names the fold by its size", () => {
    expect(foldedLabel(3)).toBe("3 versions made by runs");
    expect(foldedLabel(1)).toBe("1 version made by runs");
  });
});
