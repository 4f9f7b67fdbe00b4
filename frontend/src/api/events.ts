/**
 * The span and run-event shapes as zod schemas: what the canvas accepts at the websocket boundary.
 *
 * The one definition is backend/engine/shapes/span.json and events.json (served at /api/schemas/);
 * events.test.ts fails when these drift from them (field names, required fields, event types).
 */
import { z } from "zod";

const nullableText = z.string().nullable();

export const spanSchema = z.object({
  span_id: z.string(),
  parent_id: nullableText,
  trace_id: z.string().optional(),
  kind: z.string(),
  name: z.string(),
  node_id: nullableText,
  node_type: nullableText,
  status: z.enum(["running", "succeeded", "failed", "skipped", "cancelled", "waiting"]),
  started_at: z.union([z.number(), z.string()]),
  ended_at: z.union([z.number(), z.string()]).nullable(),
  duration_ms: z.number().nullable(),
  input: z.unknown(),
  output: z.unknown(),
  model: nullableText,
  input_tokens: z.number().int().min(0),
  output_tokens: z.number().int().min(0),
  cost_usd: z.number().min(0),
  cache_hit: z.boolean(),
  error: nullableText,
  attributes: z.record(z.string(), z.unknown()),
});

const seq = z.number().int().min(1);
const common = { run_id: z.string().optional(), ts: z.number().optional() };

export const totalsSchema = z.object({
  input_tokens: z.number().int().min(0).optional(),
  output_tokens: z.number().int().min(0).optional(),
  cost_usd: z.number().min(0).optional(),
  llm_calls: z.number().int().min(0).optional(),
  cache_hits: z.number().int().min(0).optional(),
  saved_usd: z.number().min(0).optional(),
  saved_ms: z.number().min(0).optional(),
  duration_ms: z.number().nullable().optional(),
});

/** Each event type, keyed as in events.json's $defs. */
export const eventSchemas = {
  RunStartedEvent: z.object({
    type: z.literal("run.started"), seq, ...common,
    graph: z.string().optional(), input: z.unknown().optional(), budget: z.record(z.string(), z.unknown()).optional(),
    trace_id: z.string().optional(),
  }),
  NodeStartedEvent: z.object({
    type: z.literal("node.started"), seq, ...common, node_id: z.string(),
    node_type: z.string().optional(), span_id: z.string().optional(), parent_id: nullableText.optional(),
  }),
  NodeDeltaEvent: z.object({
    type: z.literal("node.delta"), seq: z.null(), after_seq: z.number().int().min(0), ...common,
    node_id: z.string(), span_id: z.string().optional(), text: z.string(), attempt: z.number().int().min(1).optional(),
  }),
  NodeCompletedEvent: z.object({
    type: z.literal("node.completed"), seq, ...common, node_id: z.string(), span: spanSchema, output: z.unknown().optional(),
  }),
  NodeFailedEvent: z.object({
    type: z.literal("node.failed"), seq, ...common, node_id: z.string(), span: spanSchema, error: z.string(),
  }),
  NodeSkippedEvent: z.object({
    type: z.literal("node.skipped"), seq, ...common, node_id: z.string(), span: spanSchema, reason: z.string(),
  }),
  NodeCancelledEvent: z.object({
    type: z.literal("node.cancelled"), seq, ...common, node_id: z.string(), span: spanSchema,
  }),
  SpanCompletedEvent: z.object({ type: z.literal("span.completed"), seq, ...common, span: spanSchema }),
  RunCompletedEvent: z.object({
    type: z.literal("run.completed"), seq, ...common,
    status: z.enum(["succeeded", "failed", "budget_exceeded", "cancelled"]),
    output: z.unknown().optional(), error: nullableText.optional(), totals: totalsSchema,
    details_pruned: z.boolean().optional(),
  }),
  ApprovalRequestedEvent: z.object({
    type: z.literal("approval.requested"), seq, ...common, node_id: z.string(), span: spanSchema,
    request: z.record(z.string(), z.unknown()),
  }),
  RunWaitingEvent: z.object({
    type: z.literal("run.waiting"), seq, ...common, waiting: z.array(z.string()), totals: totalsSchema,
  }),
  RunResumedEvent: z.object({ type: z.literal("run.resumed"), seq, ...common, decided: z.array(z.string()) }),
  PongMessage: z.object({ type: z.literal("pong"), last_seq: z.number().int().min(0) }),
  ErrorMessage: z.object({ type: z.literal("error"), message: z.string(), problems: z.array(z.unknown()).optional() }),
} as const;

/** Every message the run's websocket may send. */
export const socketMessageSchema = z.discriminatedUnion("type", Object.values(eventSchemas) as unknown as [
  (typeof eventSchemas)[keyof typeof eventSchemas], ...(typeof eventSchemas)[keyof typeof eventSchemas][]]);

export type Span = z.infer<typeof spanSchema>;
export type SocketMessage = z.infer<typeof socketMessageSchema>;

/** A websocket frame's JSON, checked: the message, or the reason it is not one (never a guess). */
export function parseSocketMessage(data: unknown): { ok: true; message: SocketMessage } | { ok: false; reason: string } {
  const parsed = socketMessageSchema.safeParse(data);
  if (parsed.success) return { ok: true, message: parsed.data };
  return { ok: false, reason: parsed.error.issues.map((i) => `${i.path.join(".") || "(message)"}: ${i.message}`).join("; ") };
}
