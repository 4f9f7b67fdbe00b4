import { describe, expect, it } from "vitest";
import { readRunInput } from "./runInput";

const inputs = { type: "object", required: ["topic"], properties: { topic: { type: "string", title: "Topic" }, n: { type: "integer" } } };

describe("readRunInput", () => {
  it("asks for every required field by its title", () => {
    expect(readRunInput(inputs, { n: 2 }, "")).toEqual({ error: "Fill in: Topic." });
    expect(readRunInput(inputs, { topic: "" }, "")).toEqual({ error: "Fill in: Topic." });
  });

  it("runs with the values typed, remembered for next time", () => {
    expect(readRunInput(inputs, { topic: "owls", n: 2 }, "")).toEqual({ input: { topic: "owls", n: 2 }, remember: true });
  });

  it("reads raw JSON when the flow names no input fields", () => {
    expect(readRunInput(undefined, {}, '{"a": [1]}')).toEqual({ input: { a: [1] }, remember: false });
    expect(readRunInput(undefined, {}, "{nope")).toEqual({ error: "The input is not valid JSON." });
  });
});

describe("inputExamples", () => {
  it("gives the schema's examples, or none", async () => {
    const { inputExamples } = await import("./runInput");
    expect(inputExamples({ type: "object", examples: [{ a: "x" }, { a: "y" }] })).toEqual([{ a: "x" }, { a: "y" }]);
    expect(inputExamples({ type: "object", examples: "nope" })).toEqual([]);
    expect(inputExamples(undefined)).toEqual([]);
  });
});
