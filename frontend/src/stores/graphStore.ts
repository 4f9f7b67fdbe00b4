/**
 * The graph being edited: nodes, edges and document settings, with undo/redo.
 * Run state lives in runStore, apart from this (a run never rewrites the graph).
 */
import { applyEdgeChanges, applyNodeChanges, type EdgeChange, type NodeChange } from "@xyflow/react";
import { create } from "zustand";
import {
  canvasToSpec, checkConnection, defaultPort, initialConfig, layoutGraph, newEdgeId, outPorts, specToCanvas, uniqueId,
  type CanvasEdge, type CanvasGraph, type CanvasNode, type Catalogue, type GraphMeta, type GraphSpec, type JsonObject,
  type PinnedProblem,
} from "../graph-core";

interface Snapshot {
  meta: GraphMeta;
  nodes: CanvasNode[];
  edges: CanvasEdge[];
}

const HISTORY_LIMIT = 100;

export interface GraphState {
  graphId: number | null;
  catalogue: Catalogue;
  meta: GraphMeta;
  nodes: CanvasNode[];
  edges: CanvasEdge[];
  noEdgesKey: boolean;
  /** Bumped on every document change (not on selection): drives validation and draft autosave. */
  revision: number;
  /** The revision that matches the last saved version. */
  savedRevision: number;
  savedVersion: number | null;
  past: Snapshot[];
  future: Snapshot[];
  problems: PinnedProblem[];
  /** Problems grouped by node id (stable arrays, so a node re-renders only when its own change). */
  problemsByNode: Record<string, PinnedProblem[]>;
  clipboard: { nodes: CanvasNode[]; edges: CanvasEdge[] } | null;
  /** Why the edge being drawn would be refused (shown while dragging and after). */
  connectHint: string | null;
  dragSnapshot: Snapshot | null;

  load(args: { graphId: number | null; spec: GraphSpec; catalogue: Catalogue; version: number | null; dirty?: boolean }): void;
  spec(): GraphSpec;
  isDirty(): boolean;
  markSaved(version: number | null, graphId?: number): void;
  onNodesChange(changes: NodeChange<CanvasNode>[]): void;
  onEdgesChange(changes: EdgeChange<CanvasEdge>[]): void;
  connect(source: string, sourceHandle: string | null, target: string): string | null;
  addNode(type: string, position: { x: number; y: number }, defaultModel?: string): string;
  updateConfig(nodeId: string, config: JsonObject | undefined): void;
  updateNodeField(nodeId: string, field: "label", value: string | undefined): void;
  renameNode(oldId: string, newId: string): string | null;
  setMeta(patch: Partial<GraphMeta>): void;
  deleteSelected(): void;
  selectAll(): void;
  select(nodeId: string | null): void;
  copySelection(): number;
  paste(): number;
  undo(): void;
  redo(): void;
  autoLayout(): void;
  replaceSpec(spec: GraphSpec): void;
  setProblems(problems: PinnedProblem[]): void;
  setConnectHint(hint: string | null): void;
}

function snapshot(s: GraphState): Snapshot {
  return { meta: s.meta, nodes: s.nodes, edges: s.edges };
}

const emptyMeta: GraphMeta = { schema: "patchbay.graph/v1", name: "" };

export const useGraph = create<GraphState>((set, get) => {
  /** Apply a document change as one undoable step. */
  function commit(next: Partial<Snapshot>, extra: Partial<GraphState> = {}) {
    const s = get();
    set({
      ...next,
      ...extra,
      past: [...s.past, snapshot(s)].slice(-HISTORY_LIMIT),
      future: [],
      revision: s.revision + 1,
    });
  }

  return {
    graphId: null,
    catalogue: {},
    meta: emptyMeta,
    nodes: [],
    edges: [],
    noEdgesKey: false,
    revision: 0,
    savedRevision: 0,
    savedVersion: null,
    past: [],
    future: [],
    problems: [],
    problemsByNode: {},
    clipboard: null,
    connectHint: null,
    dragSnapshot: null,

    load({ graphId, spec, catalogue, version, dirty }) {
      const canvas: CanvasGraph = specToCanvas(spec, catalogue);
      const needsLayout = canvas.nodes.length > 1 && canvas.nodes.every((n) => n.data.placedAt);
      let nodes = canvas.nodes;
      if (needsLayout) {
        const pos = layoutGraph(nodes, canvas.edges);
        nodes = nodes.map((n) => ({ ...n, position: pos[n.id], data: { ...n.data, placedAt: pos[n.id] } }));
      }
      const revision = get().revision + 1;
      set({
        graphId, catalogue, meta: canvas.meta, nodes, edges: canvas.edges, noEdgesKey: !!canvas.noEdgesKey,
        revision, savedRevision: dirty ? -1 : revision, savedVersion: version, past: [], future: [], problems: [], problemsByNode: {},
        dragSnapshot: null,
      });
    },

    spec() {
      const s = get();
      return canvasToSpec({ meta: s.meta, nodes: s.nodes, edges: s.edges, noEdgesKey: s.noEdgesKey }, s.catalogue);
    },

    isDirty() {
      const s = get();
      return s.revision !== s.savedRevision;
    },

    markSaved(version, graphId) {
      set((s) => ({ savedRevision: s.revision, savedVersion: version, graphId: graphId ?? s.graphId }));
    },

    onNodesChange(changes) {
      const s = get();
      let structural = false;
      let dragEnded = false;
      let dragStarted = false;
      for (const c of changes) {
        if (c.type === "remove" || c.type === "add" || c.type === "replace") structural = true;
        if (c.type === "position") {
          if (c.dragging && !s.dragSnapshot) dragStarted = true;
          if (c.dragging === false) dragEnded = true;
        }
      }
      const removedIds = new Set(changes.filter((c) => c.type === "remove").map((c) => (c as { id: string }).id));
      const nodes = applyNodeChanges(changes, s.nodes);
      if (structural) {
        const edges = removedIds.size ? s.edges.filter((e) => !removedIds.has(e.source) && !removedIds.has(e.target)) : s.edges;
        commit({ nodes, edges });
        return;
      }
      if (dragStarted) {
        set({ nodes, dragSnapshot: snapshot(s) });
        return;
      }
      if (dragEnded) {
        const before = s.dragSnapshot ?? snapshot(s);
        set({ nodes, dragSnapshot: null, past: [...s.past, before].slice(-HISTORY_LIMIT), future: [], revision: s.revision + 1 });
        return;
      }
      set({ nodes });
    },

    onEdgesChange(changes) {
      const s = get();
      const edges = applyEdgeChanges(changes, s.edges);
      if (changes.some((c) => c.type === "remove" || c.type === "add" || c.type === "replace")) commit({ edges });
      else set({ edges });
    },

    connect(source, sourceHandle, target) {
      const s = get();
      const nodes = s.nodes.map((n) => ({ id: n.id, type: n.data.kind, config: n.data.config }));
      const edges = s.edges.map((e) => ({ from: e.source, to: e.target, port: e.sourceHandle }));
      const check = checkConnection(nodes, edges, source, sourceHandle, target, s.catalogue);
      if (!check.ok) return check.reason ?? "This connection is not allowed.";
      const edge: CanvasEdge = { id: newEdgeId(), source, target, sourceHandle: check.port ?? null, data: {} };
      commit({ edges: [...s.edges, edge] });
      return null;
    },

    addNode(type, position, defaultModel) {
      const s = get();
      const info = s.catalogue[type];
      const id = uniqueId(type === "llm" ? "step" : type, s.nodes.map((n) => n.id));
      const config = info ? initialConfig(info.config_schema, { model: defaultModel }) : {};
      if (type === "llm" && config.prompt === undefined) config.prompt = "";
      const node: CanvasNode = {
        id, type: "patchbay", position, selected: true,
        data: type === "input" && !Object.keys(config).length ? { kind: type } : { kind: type, config },
      };
      commit({ nodes: [...s.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), node] });
      return id;
    },

    updateConfig(nodeId, config) {
      const s = get();
      const nodes = s.nodes.map((n) => {
        if (n.id !== nodeId) return n;
        const data = { ...n.data };
        if (config === undefined) delete data.config;
        else data.config = config;
        return { ...n, data };
      });
      // A router's routes may rename its exits: edges on a port that disappeared keep their port and are flagged by validation.
      commit({ nodes });
    },

    updateNodeField(nodeId, field, value) {
      const s = get();
      commit({
        nodes: s.nodes.map((n) => {
          if (n.id !== nodeId) return n;
          const data = { ...n.data };
          if (value === undefined || value === "") delete data[field];
          else data[field] = value;
          return { ...n, data };
        }),
      });
    },

    renameNode(oldId, newId) {
      const s = get();
      if (oldId === newId) return null;
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(newId)) {
        return "A step name uses letters, digits and _ only, and does not start with a digit.";
      }
      if (s.nodes.some((n) => n.id === newId)) return `Another step is already called “${newId}”.`;
      const ref = new RegExp(`nodes\\.${oldId}\\b`, "g");
      const rewrite = (v: unknown): unknown => {
        if (typeof v === "string") return v.replace(ref, `nodes.${newId}`);
        if (Array.isArray(v)) return v.map(rewrite);
        if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rewrite(x)]));
        return v;
      };
      commit({
        nodes: s.nodes.map((n) => {
          const config = n.data.config ? (rewrite(n.data.config) as JsonObject) : undefined;
          const data = config ? { ...n.data, config } : n.data;
          return n.id === oldId ? { ...n, id: newId, data } : { ...n, data };
        }),
        edges: s.edges.map((e) => ({
          ...e,
          source: e.source === oldId ? newId : e.source,
          target: e.target === oldId ? newId : e.target,
        })),
      });
      return null;
    },

    setMeta(patch) {
      const s = get();
      const meta = { ...s.meta, ...patch } as GraphMeta;
      for (const [k, v] of Object.entries(patch)) if (v === undefined) delete (meta as Record<string, unknown>)[k];
      commit({ meta });
    },

    deleteSelected() {
      const s = get();
      const gone = new Set(s.nodes.filter((n) => n.selected).map((n) => n.id));
      const edges = s.edges.filter((e) => !e.selected && !gone.has(e.source) && !gone.has(e.target));
      if (!gone.size && edges.length === s.edges.length) return;
      commit({ nodes: s.nodes.filter((n) => !gone.has(n.id)), edges });
    },

    selectAll() {
      set((s) => ({ nodes: s.nodes.map((n) => ({ ...n, selected: true })) }));
    },

    select(nodeId) {
      set((s) => ({
        nodes: s.nodes.map((n) => (n.selected === (n.id === nodeId) ? n : { ...n, selected: n.id === nodeId })),
        edges: s.edges.map((e) => (e.selected ? { ...e, selected: false } : e)),
      }));
    },

    copySelection() {
      const s = get();
      const nodes = s.nodes.filter((n) => n.selected);
      const ids = new Set(nodes.map((n) => n.id));
      const edges = s.edges.filter((e) => ids.has(e.source) && ids.has(e.target));
      if (nodes.length) set({ clipboard: { nodes: structuredClone(nodes), edges: structuredClone(edges) } });
      return nodes.length;
    },

    paste() {
      const s = get();
      const clip = s.clipboard;
      if (!clip?.nodes.length) return 0;
      const taken = new Set(s.nodes.map((n) => n.id));
      const rename = new Map<string, string>();
      for (const n of clip.nodes) {
        const id = uniqueId(n.id, taken);
        taken.add(id);
        rename.set(n.id, id);
      }
      const pasted: CanvasNode[] = clip.nodes.map((n) => {
        const data = { ...structuredClone(n.data) };
        delete data.placedAt;
        return { ...n, id: rename.get(n.id)!, position: { x: n.position.x + 40, y: n.position.y + 40 }, selected: true, data };
      });
      const pastedEdges: CanvasEdge[] = clip.edges.map((e) => ({
        ...structuredClone(e), id: newEdgeId(), source: rename.get(e.source)!, target: rename.get(e.target)!, selected: false,
      }));
      commit({
        nodes: [...s.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), ...pasted],
        edges: [...s.edges, ...pastedEdges],
      });
      // The next paste lands a little further on.
      set({ clipboard: { nodes: clip.nodes.map((n) => ({ ...n, position: { x: n.position.x + 40, y: n.position.y + 40 } })), edges: clip.edges } });
      return pasted.length;
    },

    undo() {
      const s = get();
      const previous = s.past[s.past.length - 1];
      if (!previous) return;
      set({ ...previous, past: s.past.slice(0, -1), future: [snapshot(s), ...s.future], revision: s.revision + 1 });
    },

    redo() {
      const s = get();
      const next = s.future[0];
      if (!next) return;
      set({ ...next, past: [...s.past, snapshot(s)], future: s.future.slice(1), revision: s.revision + 1 });
    },

    autoLayout() {
      const s = get();
      const pos = layoutGraph(s.nodes, s.edges);
      commit({ nodes: s.nodes.map((n) => ({ ...n, position: pos[n.id] ?? n.position })) });
    },

    replaceSpec(spec) {
      const s = get();
      const canvas = specToCanvas(spec, s.catalogue);
      let nodes = canvas.nodes;
      if (nodes.length > 1 && nodes.every((n) => n.data.placedAt)) {
        const pos = layoutGraph(nodes, canvas.edges);
        nodes = nodes.map((n) => ({ ...n, position: pos[n.id], data: { ...n.data, placedAt: pos[n.id] } }));
      }
      commit({ meta: canvas.meta, nodes, edges: canvas.edges }, { noEdgesKey: !!canvas.noEdgesKey });
    },

    setProblems(problems) {
      const byNode: Record<string, PinnedProblem[]> = {};
      for (const p of problems) if (p.nodeId) (byNode[p.nodeId] ??= []).push(p);
      const previous = get().problemsByNode;
      for (const [id, list] of Object.entries(byNode)) {
        const old = previous[id];
        if (old && old.length === list.length && old.every((p, i) => p.text === list[i].text && p.field === list[i].field)) byNode[id] = old;
      }
      set({ problems, problemsByNode: byNode });
    },

    setConnectHint(hint) {
      if (get().connectHint !== hint) set({ connectHint: hint });
    },
  };
});

/** The exits a node shows, from its type and config. */
export function nodePorts(node: CanvasNode, catalogue: Catalogue): string[] {
  return outPorts({ type: node.data.kind, config: node.data.config }, catalogue);
}
export function nodeDefaultPort(node: CanvasNode, catalogue: Catalogue): string | null {
  return defaultPort({ type: node.data.kind, config: node.data.config }, catalogue);
}
