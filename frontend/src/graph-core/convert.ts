/**
 * Spec ⇄ canvas. The canvas keeps everything the file had, so a file that is
 * imported and exported unchanged comes back equal: fields the canvas does not
 * know ride along untouched, a node without a position or config stays without
 * one until the user moves or edits it, and an edge without a port stays without.
 */
import { defaultPort } from "./ports";
import type { Catalogue, GraphSpec, JsonObject, SpecEdge, SpecNode } from "./types";

export interface CanvasNodeData {
  [key: string]: unknown;
  /** The node type (llm, gate, ...). */
  kind: string;
  config?: JsonObject;
  label?: string;
  /** Keys of the spec node the canvas does not edit, kept as they were. */
  extra?: Record<string, unknown>;
  /** Set when the file had no position: the canvas placed it here; moving it makes it real. */
  placedAt?: { x: number; y: number };
}

export interface CanvasNode {
  id: string;
  type: "patchbay";
  position: { x: number; y: number };
  data: CanvasNodeData;
  selected?: boolean;
  [key: string]: unknown;
}

export interface CanvasEdgeData {
  [key: string]: unknown;
  /** The port as written in the file (undefined: none written; the default port applies). */
  port?: string;
  extra?: Record<string, unknown>;
}

export interface CanvasEdge {
  id: string;
  source: string;
  target: string;
  sourceHandle: string | null;
  targetHandle?: string | null;
  data: CanvasEdgeData;
  [key: string]: unknown;
}

/** Everything in the document except its nodes and edges. */
export interface GraphMeta {
  schema: string;
  name: string;
  description?: string;
  inputs?: GraphSpec["inputs"];
  budget?: GraphSpec["budget"];
  [extra: string]: unknown;
}

export interface CanvasGraph {
  meta: GraphMeta;
  /** The file had no "edges" key (allowed): an export without new edges leaves it out again. */
  noEdgesKey?: boolean;
  nodes: CanvasNode[];
  edges: CanvasEdge[];
}

const NODE_KNOWN = new Set(["id", "type", "position", "config", "label"]);
const EDGE_KNOWN = new Set(["from", "to", "port"]);

function extras(value: Record<string, unknown>, known: Set<string>): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  let any = false;
  for (const [k, v] of Object.entries(value)) {
    if (!known.has(k)) {
      out[k] = v;
      any = true;
    }
  }
  return any ? out : undefined;
}

let edgeCounter = 0;
export function newEdgeId(): string {
  edgeCounter += 1;
  return `e-${Date.now().toString(36)}-${edgeCounter}`;
}

/** Where a node without a position goes before any layout: a simple grid, left to right. */
function fallbackPosition(index: number): { x: number; y: number } {
  return { x: (index % 6) * 260, y: Math.floor(index / 6) * 160 };
}

function isPosition(p: unknown): p is [number, number] {
  return Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === "number" && Number.isFinite(v));
}

export function specToCanvas(spec: GraphSpec, catalogue: Catalogue): CanvasGraph {
  const { nodes = [], edges = [], ...meta } = spec;
  const canvasNodes: CanvasNode[] = nodes.map((node, i) => {
    const data: CanvasNodeData = { kind: node.type };
    if (node.config !== undefined) data.config = node.config;
    if (node.label !== undefined) data.label = node.label;
    const extra = extras(node, NODE_KNOWN);
    if (extra) data.extra = extra;
    let position: { x: number; y: number };
    if (isPosition(node.position)) {
      position = { x: node.position[0], y: node.position[1] };
    } else {
      position = fallbackPosition(i);
      data.placedAt = { ...position };
      if (node.position !== undefined) data.extra = { ...(data.extra ?? {}), position: node.position };
    }
    return { id: node.id, type: "patchbay", position, data };
  });
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const canvasEdges: CanvasEdge[] = edges.map((edge, i) => {
    const source = byId.get(edge.from);
    const handle = edge.port ?? (source ? defaultPort(source, catalogue) : null);
    const data: CanvasEdgeData = {};
    if (edge.port !== undefined) data.port = edge.port;
    const extra = extras(edge, EDGE_KNOWN);
    if (extra) data.extra = extra;
    return { id: `e${i}`, source: edge.from, target: edge.to, sourceHandle: handle, data };
  });
  const graph: CanvasGraph = { meta: meta as GraphMeta, nodes: canvasNodes, edges: canvasEdges };
  if (!("edges" in spec)) graph.noEdgesKey = true;
  return graph;
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

export function canvasToSpec(graph: CanvasGraph, catalogue: Catalogue): GraphSpec {
  const typeOf = new Map(graph.nodes.map((n) => [n.id, n]));
  const nodes: SpecNode[] = graph.nodes.map((n) => {
    const out: SpecNode = { id: n.id, type: n.data.kind };
    if (n.data.label !== undefined) out.label = n.data.label;
    const placed = n.data.placedAt;
    const unmoved = placed && placed.x === n.position.x && placed.y === n.position.y;
    if (!unmoved) out.position = [round(n.position.x), round(n.position.y)];
    if (n.data.config !== undefined) out.config = n.data.config;
    if (n.data.extra) {
      for (const [k, v] of Object.entries(n.data.extra)) {
        if (k === "position" && !unmoved) continue; // a malformed position the user has since replaced
        out[k] = v;
      }
    }
    return out;
  });
  const edges: SpecEdge[] = graph.edges.map((e) => {
    const out: SpecEdge = { from: e.source, to: e.target };
    const source = typeOf.get(e.source);
    const fallback = source ? defaultPort({ type: source.data.kind, config: source.data.config }, catalogue) : null;
    if (e.data?.port !== undefined) {
      // Keep the written port, unless the user re-attached the edge to another handle.
      out.port = e.sourceHandle && e.sourceHandle !== e.data.port ? e.sourceHandle : e.data.port;
    } else if (e.sourceHandle && e.sourceHandle !== fallback) {
      out.port = e.sourceHandle;
    }
    if (e.data?.extra) Object.assign(out, e.data.extra);
    return out;
  });
  const spec = { ...(graph.meta as GraphSpec), nodes, edges } as GraphSpec;
  if (graph.noEdgesKey && edges.length === 0) delete (spec as Partial<GraphSpec>).edges;
  return spec;
}
