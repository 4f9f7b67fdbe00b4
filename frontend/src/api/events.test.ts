/**
 * The canvas's zod schemas against the one definition of each shape (backend/engine/shapes/*.json):
 * the same fields, the same required fields, the same event types; and sample events pass both.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { eventSchemas, parseSocketMessage, spanSchema } from "./events";

type JsonSchema = { properties?: Record<string, { const?: string }>; required?: string[]; $defs?: Record<string, JsonSchema> };
const shapes = resolve(__dirname, "../../../backend/engine/shapes");
const load = (name: string): JsonSchema => JSON.parse(readFileSync(resolve(shapes, name), "utf8"));
const spanJson = load("span.json");
const eventsJson = load("events.json");

function fieldsOf(schema: z.ZodType): { properties: string[]; required: string[] } {
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  return { properties: Object.keys(json.properties ?? {}).sort(), required: [...(json.required ?? [])].sort() };
}

function expected(schema: JsonSchema): { properties: string[]; required: string[] } {
  return { properties: Object.keys(schema.properties ?? {}).sort(), required: [...(schema.required ?? [])].sort() };
}

describe("the canvas's shapes follow backend/engine/shapes", () => {
  it("has span.json's fields and required fields", () => {
    expect(fieldsOf(spanSchema)).toEqual(expected(spanJson));
  });

  it("has one schema per event in events.json, with its fields and required fields", () => {
    const defs = Object.entries(eventsJson.$defs ?? {}).filter(([, d]) => d.properties?.type?.const);
    expect(Object.keys(eventSchemas).sort()).toEqual(defs.map(([name]) => name).sort());
    for (const [name, def] of defs) {
      expect({ name, ...fieldsOf(eventSchemas[name as keyof typeof eventSchemas]) }).toEqual({ name, ...expected(def) });
    }
  });
});

describe("the websocket boundary", () => {
  const span = {
    span_id: "0123456789abcdef", parent_id: null, trace_id: "t".repeat(32), kind: "node", name: "a", node_id: "a",
    node_type: "llm", status: "succeeded", started_at: 100, ended_at: 100.25, duration_ms: 250, input: null,
    output: "hi", model: null, input_tokens: 0, output_tokens: 0, cost_usd: 0, cache_hit: false, error: null,
    attributes: {},
  };

  it("accepts what the engine sends", () => {
    const samples = [
      { type: "run.started", seq: 1, run_id: "r", ts: 100, graph: "g", input: { x: 1 }, budget: {}, trace_id: "t" },
      { type: "node.started", seq: 2, run_id: "r", ts: 100, node_id: "a", node_type: "llm", span_id: "s", parent_id: null },
      { type: "node.delta", seq: null, after_seq: 2, run_id: "r", ts: 100, node_id: "a", span_id: "s", text: "He", attempt: 1 },
      { type: "node.completed", seq: 3, run_id: "r", ts: 100, node_id: "a", span },
      { type: "run.completed", seq: 4, status: "succeeded", output: "hi", error: null, totals: {} },
      { type: "pong", last_seq: 4 },
    ];
    for (const sample of samples) expect(parseSocketMessage(sample)).toMatchObject({ ok: true });
  });

  it("refuses a message that only has a type, or a span missing a field, naming the field", () => {
    const bare = parseSocketMessage({ type: "node.completed", seq: 3 });
    expect(bare.ok).toBe(false);
    const { cost_usd: _dropped, ...short } = span;
    const partial = parseSocketMessage({ type: "span.completed", seq: 3, span: short });
    expect(partial).toMatchObject({ ok: false });
    expect(partial.ok ? "" : partial.reason).toContain("span.cost_usd");
    expect(parseSocketMessage({ type: "surprise", seq: 1 }).ok).toBe(false);
  });
});
