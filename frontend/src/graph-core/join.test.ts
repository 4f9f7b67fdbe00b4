import { describe, expect, it } from "vitest";
import { joinedSteps, joinTemplate } from "./templates";

describe("the branch-join template (the result of whichever of these ran)", () => {
  it("takes the first step that ran, falling back along the list", () => {
    expect(joinTemplate(["billing_reply", "tech_reply", "general_reply"])).toBe(
      "{{ nodes.billing_reply.output | default(nodes.tech_reply.output) | default(nodes.general_reply.output) }}");
    expect(joinTemplate(["a"])).toBe("{{ nodes.a.output }}");
    expect(joinTemplate([])).toBe("");
  });

  it("reads back the steps of a join it wrote, and nothing from other templates", () => {
    expect(joinedSteps(joinTemplate(["b", "a", "c"]))).toEqual(["b", "a", "c"]);
    expect(joinedSteps("  {{nodes.a.output|default(nodes.b.output)}} ")).toEqual(["a", "b"]);
    expect(joinedSteps("{{ nodes.a.output }} and {{ nodes.b.output }}")).toBeNull();
    expect(joinedSteps("{{ nodes.a.output | default('') }}")).toBeNull();
  });
});
