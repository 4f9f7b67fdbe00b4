/** What a template in a node may use: `{{ input.<field> }}` and `{{ nodes.<upstream>.output }}`. */
import type { GraphSpec, JsonObject } from "./types";

export interface Suggestion {
  /** What gets inserted between the braces. */
  insert: string;
  /** Shown next to it. */
  detail: string;
}

export function upstreamOf(nodeId: string, edges: { from: string; to: string }[]): string[] {
  const incoming = new Map<string, string[]>();
  for (const e of edges) incoming.set(e.to, [...(incoming.get(e.to) ?? []), e.from]);
  const seen = new Set<string>();
  const order: string[] = [];
  const stack = [...(incoming.get(nodeId) ?? [])];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    order.push(id);
    stack.push(...(incoming.get(id) ?? []));
  }
  return order;
}

export function templateSuggestions(spec: Pick<GraphSpec, "nodes" | "edges" | "inputs">, nodeId: string): Suggestion[] {
  const out: Suggestion[] = [];
  const props = (spec.inputs as JsonObject | undefined)?.properties;
  if (props && typeof props === "object" && !Array.isArray(props)) {
    for (const [name, schema] of Object.entries(props)) {
      const title = schema && typeof schema === "object" && !Array.isArray(schema) ? (schema as JsonObject).title : undefined;
      out.push({ insert: `input.${name}`, detail: typeof title === "string" ? `flow input: ${title}` : "flow input" });
    }
  } else {
    out.push({ insert: "input", detail: "the whole flow input" });
  }
  const types = new Map(spec.nodes.map((n) => [n.id, n.type]));
  for (const id of upstreamOf(nodeId, spec.edges ?? [])) {
    if (types.get(id) === "input") continue;
    out.push({ insert: `nodes.${id}.output`, detail: `result of ${id} (${types.get(id)})` });
  }
  return out;
}

/** If the caret sits inside an unfinished `{{ …`, the text typed so far after the braces. */
export function openPlaceholder(text: string, caret: number): { start: number; typed: string } | null {
  const before = text.slice(0, caret);
  const open = before.lastIndexOf("{{");
  if (open < 0 || before.lastIndexOf("}}") > open) return null;
  const typed = before.slice(open + 2);
  if (/[\n]/.test(typed)) return null;
  return { start: open + 2, typed: typed.trimStart() };
}

/** Insert a suggestion at an open placeholder: returns the new text and caret. */
export function applySuggestion(text: string, caret: number, insert: string): { text: string; caret: number } {
  const open = openPlaceholder(text, caret);
  if (!open) {
    const piece = `{{ ${insert} }}`;
    return { text: text.slice(0, caret) + piece + text.slice(caret), caret: caret + piece.length };
  }
  const after = text.slice(caret);
  const closes = after.trimStart().startsWith("}}");
  const piece = ` ${insert} ${closes ? "" : "}}"}`;
  const rest = closes ? after.trimStart() : after;
  const newText = text.slice(0, open.start) + piece + rest;
  const newCaret = open.start + piece.length + (closes ? 2 : 0);
  return { text: newText, caret: newCaret };
}

/**
 * "The result of whichever of these ran": after a router, exactly one of the branches runs and
 * the others are skipped. `default` passes over a skipped step's output (the engine makes it
 * undefined), so the first step that ran gives the value, keeping its type (text or object).
 */
export function joinTemplate(stepIds: string[]): string {
  if (!stepIds.length) return "";
  const [first, ...rest] = stepIds;
  return `{{ nodes.${first}.output${rest.map((id) => ` | default(nodes.${id}.output)`).join("")} }}`;
}

/** The steps a join template written by `joinTemplate` reads, in order; null for any other template. */
export function joinedSteps(template: string): string[] | null {
  const m = /^\{\{\s*nodes\.(\w+)\.output((?:\s*\|\s*default\(nodes\.\w+\.output\))*)\s*\}\}$/.exec(template.trim());
  if (!m) return null;
  return [m[1], ...[...m[2].matchAll(/nodes\.(\w+)\.output/g)].map((x) => x[1])];
}
