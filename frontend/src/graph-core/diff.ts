/** What changed between two versions of a graph: nodes, edges, settings, and prompt text line by line. */
import type { GraphSpec, Json, SpecEdge, SpecNode } from "./types";

export interface FieldChange {
  path: string;
  before: unknown;
  after: unknown;
  /** For multi-line text (prompts), a line diff. */
  lines?: LineChange[];
}
export interface NodeChange {
  id: string;
  type: string;
  changes: FieldChange[];
  /** Only the position moved. */
  movedOnly: boolean;
}
export interface GraphDiff {
  added: SpecNode[];
  removed: SpecNode[];
  changed: NodeChange[];
  edgesAdded: SpecEdge[];
  edgesRemoved: SpecEdge[];
  settings: FieldChange[];
  same: boolean;
}
export interface LineChange {
  op: "same" | "add" | "del";
  text: string;
}

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  }
  return v;
}

/** Leaf-level differences between two JSON values. */
export function fieldChanges(before: unknown, after: unknown, path = ""): FieldChange[] {
  if (equal(before, after)) return [];
  const isObj = (v: unknown) => v && typeof v === "object" && !Array.isArray(v);
  if (isObj(before) && isObj(after)) {
    const b = before as Record<string, Json>;
    const a = after as Record<string, Json>;
    const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])];
    return keys.flatMap((k) => fieldChanges(b[k], a[k], path ? `${path}.${k}` : k));
  }
  const change: FieldChange = { path, before, after };
  if (typeof before === "string" && typeof after === "string" && (before.includes("\n") || after.includes("\n") || before.length > 60 || after.length > 60)) {
    change.lines = lineDiff(before, after);
  }
  return [change];
}

const edgeKey = (e: SpecEdge) => `${e.from}\u0000${e.port ?? ""}\u0000${e.to}`;

export function diffSpecs(before: GraphSpec, after: GraphSpec): GraphDiff {
  const oldNodes = new Map(before.nodes.map((n) => [n.id, n]));
  const newNodes = new Map(after.nodes.map((n) => [n.id, n]));
  const added = after.nodes.filter((n) => !oldNodes.has(n.id));
  const removed = before.nodes.filter((n) => !newNodes.has(n.id));
  const changed: NodeChange[] = [];
  for (const n of after.nodes) {
    const o = oldNodes.get(n.id);
    if (!o) continue;
    const changes = fieldChanges(o, n);
    if (changes.length) {
      changed.push({ id: n.id, type: n.type, changes, movedOnly: changes.every((c) => c.path.startsWith("position")) });
    }
  }
  const oldEdges = new Set((before.edges ?? []).map(edgeKey));
  const newEdges = new Set((after.edges ?? []).map(edgeKey));
  const edgesAdded = (after.edges ?? []).filter((e) => !oldEdges.has(edgeKey(e)));
  const edgesRemoved = (before.edges ?? []).filter((e) => !newEdges.has(edgeKey(e)));
  const { nodes: _a, edges: _b, ...metaBefore } = before;
  const { nodes: _c, edges: _d, ...metaAfter } = after;
  const settings = fieldChanges(metaBefore, metaAfter);
  return {
    added, removed, changed, edgesAdded, edgesRemoved, settings,
    same: !added.length && !removed.length && !changed.length && !edgesAdded.length && !edgesRemoved.length && !settings.length,
  };
}

/** A line diff (longest common subsequence), good enough for prompts of a few hundred lines. */
export function lineDiff(before: string, after: string): LineChange[] {
  const a = before.split("\n");
  const b = after.split("\n");
  const n = a.length;
  const m = b.length;
  if (n * m > 4_000_000) {
    return [...a.map((text) => ({ op: "del" as const, text })), ...b.map((text) => ({ op: "add" as const, text }))];
  }
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out: LineChange[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ op: "same", text: a[i] });
      i++;
      j++;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
      out.push({ op: "del", text: a[i++] });
    } else {
      out.push({ op: "add", text: b[j++] });
    }
  }
  while (i < n) out.push({ op: "del", text: a[i++] });
  while (j < m) out.push({ op: "add", text: b[j++] });
  return out;
}
