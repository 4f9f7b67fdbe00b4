/**
 * The graph being edited: nodes, edges and document settings, with undo/redo, and the
 * problems the checks pinned on them. Only the document lives here: panels, dialogs and
 * the clipboard are in editorUi; run state in runStore (a run never rewrites the graph).
 * The edits themselves are pure functions in graph-core/edits; this store makes them undoable.
 */
import { applyEdgeChanges, applyNodeChanges, type EdgeChange, type NodeChange } from "@xyflow/react";
import { create, type StoreApi } from "zustand";
import {
  addNode, canvasToSpec, checkConnection, deleteSelected, newEdgeId, openSpec, outPorts, paste, patchMeta, renameNode,
  selectOnly, setConfig, setLabel, tidy, copySelection,
  type CanvasEdge, type CanvasNode, type Catalogue, type Doc, type GraphMeta, type GraphSpec, type JsonObject,
  type PinnedProblem,
} from "../graph-core";
import { useEditorUi } from "./editorUi";

const HISTORY_LIMIT = 100;

export interface GraphState extends Doc {
  graphId: number | null;
  catalogue: Catalogue;
  noEdgesKey: boolean;
  /** Bumped on every document change (not on selection): drives validation and draft autosave. */
  revision: number;
  /** The revision that matches the last saved version. */
  savedRevision: number;
  /** The saved document's content (its spec as JSON): undo back to it is "no unsaved changes" again. */
  savedContent: string | null;
  savedVersion: number | null;
  past: Doc[];
  future: Doc[];
  problems: PinnedProblem[];
  /** Problems grouped by node id (stable arrays, so a node re-renders only when its own change). */
  problemsByNode: Record<string, PinnedProblem[]>;
  /** The document as it was when a drag started: the whole drag is one undo step. */
  dragSnapshot: Doc | null;

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
}

type Set = StoreApi<GraphState>["setState"];
type Get = StoreApi<GraphState>["getState"];

function docOf(s: Doc): Doc {
  return { meta: s.meta, nodes: s.nodes, edges: s.edges };
}

const STRUCTURAL = new Set(["remove", "add", "replace"]);

/** Apply a document change as one undoable step. */
function committer(set: Set, get: Get) {
  return (next: Partial<Doc>, extra: Partial<GraphState> = {}) => {
    const s = get();
    set({ ...next, ...extra, past: [...s.past, docOf(s)].slice(-HISTORY_LIMIT), future: [], revision: s.revision + 1 });
  };
}

/** The document's content as saved: the spec, so selection and other view state do not count as changes. */
function contentOf(s: GraphState): string {
  return JSON.stringify(canvasToSpec(s, s.catalogue));
}

/** After undo or redo: back at the saved content means no unsaved changes, however many steps it took. */
function matchSaved(set: Set, get: Get): void {
  const s = get();
  if (s.savedContent !== null && contentOf(s) === s.savedContent) set({ savedRevision: s.revision });
}

/** Loading, saving state and the spec: the document as a whole. */
function documentActions(set: Set, get: Get) {
  const commit = committer(set, get);
  return {
    load({ graphId, spec, catalogue, version, dirty }: Parameters<GraphState["load"]>[0]) {
      const canvas = openSpec(spec, catalogue);
      const revision = get().revision + 1;
      set({
        graphId, catalogue, meta: canvas.meta, nodes: canvas.nodes, edges: canvas.edges, noEdgesKey: !!canvas.noEdgesKey,
        revision, savedRevision: dirty ? -1 : revision, savedVersion: version, past: [], future: [], problems: [], problemsByNode: {},
        dragSnapshot: null, savedContent: null,
      });
      if (!dirty) set({ savedContent: contentOf(get()) });
    },
    spec: () => canvasToSpec(get(), get().catalogue),
    isDirty: () => get().revision !== get().savedRevision,
    markSaved(version: number | null, graphId?: number) {
      set((s) => ({ savedRevision: s.revision, savedVersion: version, graphId: graphId ?? s.graphId, savedContent: contentOf(s) }));
    },
    replaceSpec(spec: GraphSpec) {
      const canvas = openSpec(spec, get().catalogue);
      commit({ meta: canvas.meta, nodes: canvas.nodes, edges: canvas.edges }, { noEdgesKey: !!canvas.noEdgesKey });
    },
    undo() {
      const s = get();
      const previous = s.past[s.past.length - 1];
      if (!previous) return;
      set({ ...previous, past: s.past.slice(0, -1), future: [docOf(s), ...s.future], revision: s.revision + 1 });
      matchSaved(set, get);
    },
    redo() {
      const s = get();
      const next = s.future[0];
      if (!next) return;
      set({ ...next, past: [...s.past, docOf(s)], future: s.future.slice(1), revision: s.revision + 1 });
      matchSaved(set, get);
    },
    setProblems(problems: PinnedProblem[]) {
      set({ problems, problemsByNode: problemsByNode(problems, get().problemsByNode) });
    },
  };
}

/** Group problems by node, reusing the previous array of a node whose problems did not change. */
function problemsByNode(problems: PinnedProblem[], previous: Record<string, PinnedProblem[]>): Record<string, PinnedProblem[]> {
  const byNode: Record<string, PinnedProblem[]> = {};
  for (const p of problems) if (p.nodeId) (byNode[p.nodeId] ??= []).push(p);
  for (const [id, list] of Object.entries(byNode)) {
    const old = previous[id];
    if (old && old.length === list.length && old.every((p, i) => p.text === list[i].text && p.field === list[i].field)) byNode[id] = old;
  }
  return byNode;
}

/** What React Flow reports (moves, drags, selection, removal): a drag is one undo step, selection none. */
function canvasActions(set: Set, get: Get) {
  const commit = committer(set, get);
  return {
    onNodesChange(changes: NodeChange<CanvasNode>[]) {
      const s = get();
      const nodes = applyNodeChanges(changes, s.nodes);
      if (changes.some((c) => STRUCTURAL.has(c.type))) {
        const removed = new Set(changes.flatMap((c) => (c.type === "remove" ? [c.id] : [])));
        commit({ nodes, edges: s.edges.filter((e) => !removed.has(e.source) && !removed.has(e.target)) });
      } else if (changes.some((c) => c.type === "position" && c.dragging) && !s.dragSnapshot) {
        set({ nodes, dragSnapshot: docOf(s) });
      } else if (changes.some((c) => c.type === "position" && c.dragging === false)) {
        const before = s.dragSnapshot ?? docOf(s);
        set({ nodes, dragSnapshot: null, past: [...s.past, before].slice(-HISTORY_LIMIT), future: [], revision: s.revision + 1 });
      } else {
        set({ nodes });
      }
    },
    onEdgesChange(changes: EdgeChange<CanvasEdge>[]) {
      const edges = applyEdgeChanges(changes, get().edges);
      if (changes.some((c) => STRUCTURAL.has(c.type))) commit({ edges });
      else set({ edges });
    },
    connect(source: string, sourceHandle: string | null, target: string) {
      const s = get();
      const nodes = s.nodes.map((n) => ({ id: n.id, type: n.data.kind, config: n.data.config }));
      const edges = s.edges.map((e) => ({ from: e.source, to: e.target, port: e.sourceHandle }));
      const check = checkConnection(nodes, edges, source, sourceHandle, target, s.catalogue);
      if (!check.ok) return check.reason ?? "This connection is not allowed.";
      commit({ edges: [...s.edges, { id: newEdgeId(), source, target, sourceHandle: check.port ?? null, data: {} }] });
      return null;
    },
    selectAll: () => set((s) => ({ nodes: s.nodes.map((n) => ({ ...n, selected: true })) })),
    select: (nodeId: string | null) => set((s) => selectOnly(s, nodeId)),
  };
}

/** Edits of steps and settings, each one undoable step (graph-core/edits does the work). */
function editActions(set: Set, get: Get) {
  const commit = committer(set, get);
  return {
    addNode(type: string, position: { x: number; y: number }, defaultModel?: string) {
      const added = addNode(get(), get().catalogue, type, position, defaultModel);
      commit(added.doc);
      return added.id;
    },
    updateConfig: (nodeId: string, config: JsonObject | undefined) => commit(setConfig(get(), nodeId, config)),
    updateNodeField: (nodeId: string, _field: "label", value: string | undefined) => commit(setLabel(get(), nodeId, value)),
    renameNode(oldId: string, newId: string) {
      if (oldId === newId) return null;
      const result = renameNode(get(), oldId, newId);
      if ("error" in result) return result.error;
      commit(result.doc);
      return null;
    },
    setMeta: (patch: Partial<GraphMeta>) => commit({ meta: patchMeta(get().meta, patch) }),
    deleteSelected() {
      const next = deleteSelected(get());
      if (next) commit(next);
    },
    copySelection() {
      const clip = copySelection(get());
      if (clip) useEditorUi.getState().set({ clipboard: clip });
      return clip?.nodes.length ?? 0;
    },
    paste() {
      const clip = useEditorUi.getState().clipboard;
      if (!clip?.nodes.length) return 0;
      const pasted = paste(get(), clip);
      commit(pasted.doc);
      useEditorUi.getState().set({ clipboard: pasted.next });
      return pasted.count;
    },
    autoLayout: () => commit(tidy(get())),
  };
}

const emptyMeta: GraphMeta = { schema: "patchbay.graph/v1", name: "" };

export const useGraph = create<GraphState>((set, get) => ({
  graphId: null,
  catalogue: {},
  meta: emptyMeta,
  nodes: [],
  edges: [],
  noEdgesKey: false,
  revision: 0,
  savedRevision: 0,
  savedContent: null,
  savedVersion: null,
  past: [],
  future: [],
  problems: [],
  problemsByNode: {},
  dragSnapshot: null,
  ...documentActions(set, get),
  ...canvasActions(set, get),
  ...editActions(set, get),
}));

/** The exits a node shows, from its type and config. */
export function nodePorts(node: CanvasNode, catalogue: Catalogue): string[] {
  return outPorts({ type: node.data.kind, config: node.data.config }, catalogue);
}
