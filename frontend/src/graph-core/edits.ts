/**
 * Edits of the document on the canvas, as pure functions: each takes the document
 * (meta, nodes, edges) and returns the next one, or says in words why it cannot.
 * The store applies them as undoable steps; nothing here knows about React or the store.
 */
import { newEdgeId, specToCanvas, type CanvasEdge, type CanvasGraph, type CanvasNode, type GraphMeta } from "./convert";
import { layoutGraph } from "./layout";
import { starterConfig, uniqueId } from "./schema";
import type { Catalogue, GraphSpec, Json, JsonObject } from "./types";
import { NODE_ID } from "./validate";

export interface Doc {
  meta: GraphMeta;
  nodes: CanvasNode[];
  edges: CanvasEdge[];
}

/** What copy keeps: the selected steps and the edges between them. */
export interface Clip {
  nodes: CanvasNode[];
  edges: CanvasEdge[];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Rewrite `nodes.<oldId>` to `nodes.<newId>` in every string of a config (templates, conditions), however deep. */
export function rewriteNodeRefs<T extends Json | undefined>(value: T, oldId: string, newId: string): T {
  const ref = new RegExp(`nodes\\.${escapeRegExp(oldId)}\\b`, "g");
  const rewrite = (v: Json): Json => {
    if (typeof v === "string") return v.replace(ref, `nodes.${newId}`);
    if (Array.isArray(v)) return v.map(rewrite);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rewrite(x)]));
    return v;
  };
  return (value === undefined ? value : rewrite(value)) as T;
}

/** Why a step cannot take this name, or null when it can. */
export function stepNameProblem(newId: string, taken: Iterable<string>): string | null {
  if (!NODE_ID.test(newId)) return "A step name uses letters, digits and _ only, and does not start with a digit.";
  for (const id of taken) if (id === newId) return `Another step is already called “${newId}”.`;
  return null;
}

/** Rename a step: its edges follow, and every template that names it is rewritten. */
export function renameNode(doc: Doc, oldId: string, newId: string): { doc: Doc } | { error: string } {
  if (oldId === newId) return { doc };
  const problem = stepNameProblem(newId, doc.nodes.map((n) => n.id));
  if (problem) return { error: problem };
  const nodes = doc.nodes.map((n) => {
    const data = n.data.config ? { ...n.data, config: rewriteNodeRefs(n.data.config, oldId, newId) } : n.data;
    return n.id === oldId ? { ...n, id: newId, data } : { ...n, data };
  });
  const edges = doc.edges.map((e) => ({
    ...e,
    source: e.source === oldId ? newId : e.source,
    target: e.target === oldId ? newId : e.target,
  }));
  return { doc: { ...doc, nodes, edges } };
}

function unselected(nodes: CanvasNode[]): CanvasNode[] {
  return nodes.map((n) => (n.selected ? { ...n, selected: false } : n));
}

/** The graph's first declared input field, which new steps read by default. */
function firstInputField(doc: Doc): string | undefined {
  const props = doc.meta.inputs?.properties;
  const first = props && typeof props === "object" && !Array.isArray(props) ? Object.keys(props)[0] : undefined;
  return first && /^[A-Za-z_][A-Za-z0-9_]*$/.test(first) ? first : undefined;
}

/** A new step of a type, selected, with the config its schema starts from (and the default model). */
export function addNode(doc: Doc, catalogue: Catalogue, type: string, position: { x: number; y: number }, defaultModel?: string): { doc: Doc; id: string } {
  const info = catalogue[type];
  const id = uniqueId(type === "llm" ? "step" : type, doc.nodes.map((n) => n.id));
  const config = info ? starterConfig(type, info.config_schema, { model: defaultModel, inputField: firstInputField(doc) }) : {};
  if (type === "llm" && config.prompt === undefined) config.prompt = "";
  const node: CanvasNode = {
    id, type: "patchbay", position, selected: true,
    data: type === "input" && !Object.keys(config).length ? { kind: type } : { kind: type, config },
  };
  return { doc: { ...doc, nodes: [...unselected(doc.nodes), node] }, id };
}

/** Replace (or, with undefined, remove) a step's config. */
export function setConfig(doc: Doc, nodeId: string, config: JsonObject | undefined): Doc {
  return {
    ...doc,
    nodes: doc.nodes.map((n) => {
      if (n.id !== nodeId) return n;
      const data = { ...n.data };
      if (config === undefined) delete data.config;
      else data.config = config;
      return { ...n, data };
    }),
  };
}

/** Set a step's label; an empty one is removed. */
export function setLabel(doc: Doc, nodeId: string, value: string | undefined): Doc {
  return {
    ...doc,
    nodes: doc.nodes.map((n) => {
      if (n.id !== nodeId) return n;
      const data = { ...n.data };
      if (value === undefined || value === "") delete data.label;
      else data.label = value;
      return { ...n, data };
    }),
  };
}

/** Merge into the document settings; a key set to undefined is removed. */
export function patchMeta(meta: GraphMeta, patch: Partial<GraphMeta>): GraphMeta {
  const next = { ...meta, ...patch } as GraphMeta;
  for (const [k, v] of Object.entries(patch)) if (v === undefined) delete (next as Record<string, unknown>)[k];
  return next;
}

/** Remove the selected steps and edges (and the edges of removed steps); null when nothing is selected. */
export function deleteSelected(doc: Doc): Doc | null {
  const gone = new Set(doc.nodes.filter((n) => n.selected).map((n) => n.id));
  const edges = doc.edges.filter((e) => !e.selected && !gone.has(e.source) && !gone.has(e.target));
  if (!gone.size && edges.length === doc.edges.length) return null;
  return { ...doc, nodes: doc.nodes.filter((n) => !gone.has(n.id)), edges };
}

/** The selected steps and the edges between them; null when nothing is selected. */
export function copySelection(doc: Doc): Clip | null {
  const nodes = doc.nodes.filter((n) => n.selected);
  const ids = new Set(nodes.map((n) => n.id));
  const edges = doc.edges.filter((e) => ids.has(e.source) && ids.has(e.target));
  return nodes.length ? { nodes: structuredClone(nodes), edges: structuredClone(edges) } : null;
}

/** Paste a clip beside the original, under fresh names, selected; the next clip lands a little further on. */
export function paste(doc: Doc, clip: Clip): { doc: Doc; count: number; next: Clip } {
  const taken = new Set(doc.nodes.map((n) => n.id));
  const rename = new Map<string, string>();
  for (const n of clip.nodes) {
    const id = uniqueId(n.id, taken);
    taken.add(id);
    rename.set(n.id, id);
  }
  const nodes: CanvasNode[] = clip.nodes.map((n) => {
    const data = { ...structuredClone(n.data) };
    delete data.placedAt;
    return { ...n, id: rename.get(n.id)!, position: { x: n.position.x + 40, y: n.position.y + 40 }, selected: true, data };
  });
  const edges: CanvasEdge[] = clip.edges.map((e) => ({
    ...structuredClone(e), id: newEdgeId(), source: rename.get(e.source)!, target: rename.get(e.target)!, selected: false,
  }));
  const next = { nodes: clip.nodes.map((n) => ({ ...n, position: { x: n.position.x + 40, y: n.position.y + 40 } })), edges: clip.edges };
  return { doc: { ...doc, nodes: [...unselected(doc.nodes), ...nodes], edges: [...doc.edges, ...edges] }, count: nodes.length, next };
}

/** Select one step (or none), and no edge. */
export function selectOnly(doc: Pick<Doc, "nodes" | "edges">, nodeId: string | null): Pick<Doc, "nodes" | "edges"> {
  return {
    nodes: doc.nodes.map((n) => (n.selected === (n.id === nodeId) ? n : { ...n, selected: n.id === nodeId })),
    edges: doc.edges.map((e) => (e.selected ? { ...e, selected: false } : e)),
  };
}

/** Tidy the layout: every step placed by dagre, in the order the flow runs. */
export function tidy(doc: Doc): Doc {
  const pos = layoutGraph(doc.nodes, doc.edges);
  return { ...doc, nodes: doc.nodes.map((n) => ({ ...n, position: pos[n.id] ?? n.position })) };
}

/** A document on the canvas; a file with no positions at all is laid out (its positions stay "placed", not written). */
export function openSpec(spec: GraphSpec, catalogue: Catalogue): CanvasGraph {
  const canvas = specToCanvas(spec, catalogue);
  if (!(canvas.nodes.length > 1 && canvas.nodes.every((n) => n.data.placedAt))) return canvas;
  const pos = layoutGraph(canvas.nodes, canvas.edges);
  return { ...canvas, nodes: canvas.nodes.map((n) => ({ ...n, position: pos[n.id], data: { ...n.data, placedAt: pos[n.id] } })) };
}
