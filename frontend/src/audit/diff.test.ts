import { describe, expect, it } from "vitest";
import { actionWords, changes, show } from "./diff";

describe("audit diff", () => {
  it("lists only the fields that changed", () => {
    expect(changes({ version: 1, status: "live", graph: "ask" }, { version: 2, status: "live", graph: "ask", note: "v2" })).toEqual([
      { path: "version", kind: "changed", from: 1, to: 2 },
      { path: "note", kind: "added", to: "v2" },
    ]);
  });

  it("treats a missing before as created and a missing after as removed", () => {
    expect(changes(null, { name: "k", scopes: [] })).toEqual([
      { path: "name", kind: "added", to: "k" },
      { path: "scopes", kind: "added", to: [] },
    ]);
    expect(changes({ role: "editor" }, null)).toEqual([{ path: "role", kind: "removed", from: "editor" }]);
  });

  it("compares lists as whole values and flattens nested objects", () => {
    expect(changes({ scopes: ["a"], limits: { daily: 1 } }, { scopes: ["a", "b"], limits: { daily: 1 } })).toEqual([
      { path: "scopes", kind: "changed", from: ["a"], to: ["a", "b"] },
    ]);
    expect(changes({ limits: { daily: 1 } }, { limits: { daily: 2 } })).toEqual([
      { path: "limits.daily", kind: "changed", from: 1, to: 2 },
    ]);
    expect(changes({ a: 1 }, { a: 1 })).toEqual([]);
  });

  it("shows values as words", () => {
    expect([show(null), show(true), show(false), show([]), show(["a", "b"]), show(7)]).toEqual(["—", "yes", "no", "none", "a, b", "7"]);
    expect(actionWords("api_key.revoked")).toBe("Revoked API key");
    expect(actionWords("something.new")).toBe("something.new");
  });
});
