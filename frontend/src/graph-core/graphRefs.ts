/**
 * Saved-graph references in subgraph steps: `{"subgraph": {"graph": "#12@3"}}` pins graph 12,
 * version 3 (backend/engine/graph_refs.py). Names are for display: the canvas shows the graph's
 * current name. An exported file adds `"name"` beside each reference so another workspace can
 * resolve it on import; the name form `"shouter@3"` is pinned by the server when saved.
 */
import type { GraphSpec, Json, JsonObject } from "./types";

export type GraphRef = { graphId: number; version: number } | { name: string; version: number };

/** What the canvas needs to know about a saved graph to offer and show it. */
export interface GraphChoice {
  id: number;
  name: string;
  workspace: number;
  latest: number | null;
}

const PINNED = /^#([0-9]{1,18})@([0-9]{1,9})$/;
const NAMED = /^([^@\s#][^@\s]{0,199})@([0-9]{1,9})$/;

export function parseGraphRef(text: unknown): GraphRef | null {
  if (typeof text !== "string") return null;
  const pinned = PINNED.exec(text);
  if (pinned) return { graphId: Number(pinned[1]), version: Number(pinned[2]) };
  const named = NAMED.exec(text);
  if (named) return { name: named[1], version: Number(named[2]) };
  return null;
}

export const pinnedRef = (graphId: number, version: number): string => `#${graphId}@${version}`;

/** How a reference reads on the canvas: "shouter · v3", with the current name. */
export function refLabel(text: unknown, graphs: GraphChoice[]): string {
  const ref = parseGraphRef(text);
  if (!ref) return typeof text === "string" ? text : "";
  if ("name" in ref) return `${ref.name} · v${ref.version} (pinned when saved)`;
  const graph = graphs.find((g) => g.id === ref.graphId);
  return graph ? `${graph.name} · v${ref.version}` : `graph #${ref.graphId} · v${ref.version} (not in this workspace)`;
}

/** Every `{graph: ...}` object under a `subgraph` key, at any depth (inline subgraphs included). */
function refObjects(value: Json | undefined, found: JsonObject[] = []): JsonObject[] {
  if (Array.isArray(value)) value.forEach((v) => refObjects(v, found));
  else if (value && typeof value === "object") {
    const sub = value.subgraph;
    if (sub && typeof sub === "object" && !Array.isArray(sub) && typeof sub.graph === "string") found.push(sub);
    Object.values(value).forEach((v) => refObjects(v, found));
  }
  return found;
}

const copy = (spec: GraphSpec): GraphSpec => JSON.parse(JSON.stringify(spec)) as GraphSpec;

/** For export: each pinned reference carries the graph's current name (display, and re-import elsewhere). */
export function withRefNames(spec: GraphSpec, graphs: GraphChoice[]): GraphSpec {
  const out = copy(spec);
  for (const sub of refObjects(out.nodes as unknown as Json)) {
    const ref = parseGraphRef(sub.graph);
    const graph = ref && "graphId" in ref ? graphs.find((g) => g.id === ref.graphId) : undefined;
    if (graph) sub.name = graph.name;
  }
  return out;
}

/**
 * For import: a reference to a graph of this workspace keeps its id; one from elsewhere that carries a
 * name becomes the name form, which the server pins to this workspace's graph of that name at save.
 */
export function portableRefs(spec: GraphSpec, graphs: GraphChoice[], workspace: number | null): GraphSpec {
  const out = copy(spec);
  for (const sub of refObjects(out.nodes as unknown as Json)) {
    const ref = parseGraphRef(sub.graph);
    const name = sub.name;
    delete sub.name;
    if (!ref || !("graphId" in ref) || typeof name !== "string") continue;
    const here = graphs.some((g) => g.id === ref.graphId && (workspace === null || g.workspace === workspace));
    if (!here) sub.graph = `${name}@${ref.version}`;
  }
  return out;
}
