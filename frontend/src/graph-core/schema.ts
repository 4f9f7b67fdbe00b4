/** Small helpers over node config JSON schemas: defaults for a new node, which fields are templates. */
import type { Json, JsonObject, JsonSchema } from "./types";

export interface ConfigHints {
  /** The alias a new step's `model` starts with. */
  model?: string;
  /** The graph's first input field: a `{{ input }}` default becomes `{{ input.<field> }}`. */
  inputField?: string;
}

/** Every default a schema declares for its own properties (copied, so edits never touch the catalogue). */
export function defaultsFromSchema(schema: JsonSchema, hints: ConfigHints = {}): JsonObject {
  const out: JsonObject = {};
  for (const [name, sub] of Object.entries(schema.properties ?? {})) {
    if (sub.default !== undefined) out[name] = withInputField(structuredClone(sub.default), hints);
  }
  return out;
}

function withInputField(value: Json, hints: ConfigHints): Json {
  if (!hints.inputField || typeof value !== "string") return value;
  return value.replace(/\{\{\s*input\s*\}\}/g, `{{ input.${hints.inputField} }}`);
}

/** A starting config: the schema's defaults, then required fields without one get an empty value of their type. */
export function initialConfig(schema: JsonSchema, hints: ConfigHints = {}): JsonObject {
  const out = defaultsFromSchema(schema, hints);
  for (const name of schema.required ?? []) {
    if (out[name] !== undefined) continue;
    const sub = schema.properties?.[name] ?? {};
    out[name] = initialValue(name, sub, hints);
  }
  return out;
}

function initialValue(name: string, schema: JsonSchema, hints: ConfigHints): Json {
  if (schema.default !== undefined) return schema.default;
  if (name === "model" && hints.model) return hints.model;
  if (schema.enum?.length) return schema.enum[0];
  const t = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (t === "object" || schema.properties) return initialConfig(schema, hints);
  if (t === "array") return [];
  if (t === "number" || t === "integer") return schema.minimum ?? 0;
  if (t === "boolean") return false;
  return "";
}

/**
 * Example values for required fields a schema cannot default, so a dropped step starts valid
 * and shows what to fill in: a router needs routes to send anything anywhere, and (deciding
 * with a model by default) a classifier model, which the server requires.
 */
const STARTERS: Record<string, (hints: ConfigHints) => JsonObject> = {
  router: (hints) => ({
    routes: [
      { label: "question", description: "The user asks a question" },
      { label: "request", description: "The user asks for something to be done" },
    ],
    ...(hints.model ? { classifier: { model: hints.model } } : {}),
  }),
};

/** The config a step dropped on the canvas starts with: schema defaults, starter examples, empty required fields. */
export function starterConfig(type: string, schema: JsonSchema, hints: ConfigHints = {}): JsonObject {
  return { ...initialConfig(schema, hints), ...(STARTERS[type]?.(hints) ?? {}) };
}

/** A new node id from a base name that no other node has. */
export function uniqueId(base: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  let clean = base.replace(/[^A-Za-z0-9_]/g, "_");
  if (!/^[A-Za-z_]/.test(clean)) clean = `n_${clean}`;
  clean = clean.slice(0, 60);
  if (!used.has(clean)) return clean;
  for (let i = 2; ; i++) {
    const candidate = `${clean}_${i}`;
    if (!used.has(candidate)) return candidate;
  }
}
