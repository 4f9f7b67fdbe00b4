import { describe, expect, it } from "vitest";
import { replayBody } from "./replayApi";

describe("replayBody", () => {
  it("sends no override when nothing is changed", () => {
    expect(replayBody("c", "  ", "")).toEqual({ from_node: "c" });
  });
  it("sends only what changed, for the node replayed from", () => {
    expect(replayBody("c", "Shorter: {{ nodes.b.output }}", "")).toEqual({ from_node: "c", override: { node: "c", prompt: "Shorter: {{ nodes.b.output }}" } });
    expect(replayBody("c", "", " frontier ")).toEqual({ from_node: "c", override: { node: "c", model: "frontier" } });
  });
});
