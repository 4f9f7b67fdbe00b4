import { describe, expect, it } from "vitest";
import { draftToText, textToDraft } from "./draftText";

describe("draft text", () => {
  it("keeps a text draft as text", () => {
    expect(draftToText("Hello")).toBe("Hello");
    expect(textToDraft("Hello", "Hi there")).toEqual({ ok: true, value: "Hi there" });
  });
  it("edits a structured draft as JSON and refuses broken JSON", () => {
    expect(draftToText({ a: 1 })).toBe('{\n  "a": 1\n}');
    expect(textToDraft({ a: 1 }, '{"a": 2}')).toEqual({ ok: true, value: { a: 2 } });
    expect(textToDraft({ a: 1 }, "{a: 2")).toEqual({ ok: false });
  });
});
