import { describe, expect, it } from "vitest";
import shared from "./portCases.json";
import { defaultPort, outPorts } from "./ports";
import type { Catalogue, JsonObject } from "./types";

// The ports part of the served catalogue; tests/engine/test_port_rule.py checks it is current.
const catalogue: Catalogue = Object.fromEntries(
  Object.entries(shared.catalogue).map(([type, ports]) => [
    type,
    { type, title: type, pattern: "", description: "", config_schema: {}, ...ports },
  ]),
);

describe("out-ports follow the engine's rule", () => {
  for (const [i, c] of shared.cases.entries()) {
    it(`${c.type} #${i}`, () => {
      expect(outPorts({ type: c.type, config: c.config as JsonObject }, catalogue)).toEqual(c.ports);
    });
  }
  it("the default port is the first one, or none", () => {
    expect(defaultPort({ type: "router", config: { routes: [{ label: "a" }] } }, catalogue)).toBe("a");
    expect(defaultPort({ type: "output", config: {} }, catalogue)).toBeNull();
  });
});
