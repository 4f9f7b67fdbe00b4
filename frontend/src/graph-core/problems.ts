/**
 * Server problems pinned to where they belong: a node and a field, an edge, or
 * the graph. Paths look like `nodes[3].config.prompt` (validate) or
 * `spec.nodes[3].config.prompt` (a refused save).
 */
import type { Catalogue, GraphSpec, JsonSchema, Problem } from "./types";

export interface PinnedProblem {
  /** The node it belongs to, if any. */
  nodeId: string | null;
  /** Index of the edge it belongs to, if any. */
  edgeIndex: number | null;
  /** The config field path inside the node (e.g. "prompt", "check.pattern"), "" for the node itself. */
  field: string;
  /** Plain-language message, with the field named as the form names it. */
  text: string;
  /** The original path and message. */
  path: string;
  message: string;
  /** "warning": worth a look, but the flow saves and runs. */
  severity: "error" | "warning";
}

const NODE_PATH = /^nodes\[(\d+)\](?:\.(.*))?$/;
const EDGE_PATH = /^edges\[(\d+)\](?:\.(.*))?$/;

export function stripSpecPrefix(path: string): string {
  if (path === "spec") return "";
  return path.startsWith("spec.") ? path.slice(5) : path;
}

/** The schema of a field inside a config schema, following `a.b[2].c`. */
export function fieldSchema(schema: JsonSchema | undefined, field: string): JsonSchema | undefined {
  let current = schema;
  for (const part of field.split(".").filter(Boolean)) {
    const key = part.replace(/\[\d+\]$/, "");
    current = current?.properties?.[key];
    if (part !== key) current = current?.items;
  }
  return current;
}

function humanise(name: string): string {
  const s = name.replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Reword the engine's messages where they would puzzle a non-engineer. */
export function plainMessage(message: string): string {
  let m = message;
  m = m.replace(/^'([^']+)' is required$/, (_, f) => `“${humanise(f)}” must be filled in`);
  // JSON Schema's bounds and types, as the server words them (a budget's limits, a step's numbers).
  m = m.replace(/^\S+ is less than or equal to the minimum of (\S+)$/, "must be more than $1");
  m = m.replace(/^\S+ is less than the minimum of (\S+)$/, "must be at least $1");
  m = m.replace(/^\S+ is greater than or equal to the maximum of (\S+)$/, "must be less than $1");
  m = m.replace(/^\S+ is greater than the maximum of (\S+)$/, "must be at most $1");
  m = m.replace(/^\S+ is not of type 'integer'$/, "must be a whole number");
  m = m.replace(/^\S+ is not of type 'number'$/, "must be a number");
  m = m.replace(/^unknown fields?: (.*)$/, "this setting is not recognised: $1");
  m = m.replace(/^unknown model alias '([^']+)' \(known: (.*)\)$/, "there is no model called “$1”; pick one of: $2");
  m = m.replace(/^write a prompt or pick a saved prompt \(prompt_ref\), exactly one$/, "write a prompt here, or pick a saved prompt (but not both)");
  m = m.replace(/^reads node '([^']+)', which is not upstream of '([^']+)': connect (\S+) to (\S+) first$/,
    "uses the result of “$1”, but “$1” does not come before “$2”: connect $1 to $2 first");
  m = m.replace(/^reads node '([^']+)', which does not exist$/, "uses the result of “$1”, but there is no step called “$1”");
  m = m.replace(/^unknown variable '([^']+)' \(use input\.<field> or nodes\.<id>\.output\)$/,
    "“$1” is not something this step can use: write input.<field> or nodes.<step>.output");
  m = m.replace(/^input has no field '([^']+)'/, "the flow's input has no field “$1”");
  m = m.replace(/^template syntax error, line (\d+): (.*)$/, "the {{ }} placeholders are not written correctly (line $1: $2)");
  m = m.replace(/^'([^']*)' does not match '\^\[a-z\]\[a-z0-9_\]\{0,(\d+)\}\$'$/,
    (_, v, n) => `“${v}” is not a usable name: lowercase letters, digits and _, starting with a letter (at most ${Number(n) + 1})`);
  m = m.replace(/^a graph needs exactly one output node$/, "a flow needs exactly one Output step");
  m = m.replace(/^a graph has at most one input node$/, "a flow has at most one Input step");
  m = m.replace(/^reads '([^']+)', which runs only when (.*); on other paths '([^']+)' still runs and this fails: write (.*) or test (\S+)$/,
    "uses the result of “$1”, which runs only when $2; when another path is taken, “$3” still runs and fails here. Write $4, or test $5");
  return m;
}

/** Split what the checks found into what must be fixed and what is only worth a look. */
export function bySeverity(problems: PinnedProblem[]): { errors: PinnedProblem[]; warnings: PinnedProblem[] } {
  return { errors: problems.filter((p) => p.severity !== "warning"), warnings: problems.filter((p) => p.severity === "warning") };
}

export function pinProblems(problems: Problem[], spec: GraphSpec, catalogue: Catalogue): PinnedProblem[] {
  return problems.map((p) => {
    const path = stripSpecPrefix(p.path);
    const node = NODE_PATH.exec(path);
    let nodeId: string | null = p.node_id ?? null;
    let edgeIndex: number | null = null;
    let field = "";
    let label = "";
    if (node) {
      const specNode = spec.nodes[Number(node[1])];
      nodeId = specNode?.id ?? nodeId;
      const rest = node[2] ?? "";
      if (rest.startsWith("config")) {
        field = rest.replace(/^config\.?/, "");
        const missing = /^'([^']+)' is required$/.exec(p.message);
        if (missing) field = field ? `${field}.${missing[1]}` : missing[1];
        const schema = specNode ? catalogue[specNode.type]?.config_schema : undefined;
        const fs = field ? fieldSchema(schema, field) : undefined;
        label = fs?.title ?? (field ? humanise(field.split(".").pop()!.replace(/\[\d+\]$/, "")) : "");
      } else if (rest) {
        field = `@${rest}`;
        label = rest === "id" ? "Step name" : humanise(rest);
      }
    } else {
      const edge = EDGE_PATH.exec(path);
      if (edge) {
        edgeIndex = Number(edge[1]);
        const e = spec.edges?.[edgeIndex];
        if (e) label = `Connection ${e.from} → ${e.to}`;
      } else if (path) {
        label = humanise(path.split(".")[0]);
      }
    }
    const required = /^'([^']+)' is required$/.test(p.message) && label;
    const words = required ? "this must be filled in" : plainMessage(p.message);
    const text = label ? `${label}: ${words}` : words;
    return { nodeId, edgeIndex, field, text, path: p.path, message: p.message, severity: p.severity ?? "error" };
  });
}
