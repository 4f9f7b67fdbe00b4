import { describe, expect, it } from "vitest";
import { keyInput, scopeWords } from "./apiKeyForm";

describe("the API key form", () => {
  it("leaves out empty limits so the server applies its defaults", () => {
    expect(keyInput({ name: " ci ", scopes: ["triage"], rate: "", cap: " " })).toEqual({ input: { name: "ci", scopes: ["triage"] } });
  });

  it("sends the limits typed", () => {
    expect(keyInput({ name: "ci", scopes: [], rate: "30", cap: "0.5" })).toEqual({
      input: { name: "ci", scopes: [], rate_limit_per_minute: 30, daily_max_cost_usd: 0.5 } });
  });

  it("names each bad field", () => {
    const result = keyInput({ name: "", scopes: [], rate: "1.5", cap: "-1" });
    expect("problems" in result && Object.keys(result.problems).sort()).toEqual(["daily_max_cost_usd", "name", "rate_limit_per_minute"]);
  });

  it("says an unscoped key calls every endpoint", () => {
    expect(scopeWords([])).toBe("all endpoints");
    expect(scopeWords(["a", "b"])).toBe("/a, /b");
  });
});
