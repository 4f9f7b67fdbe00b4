/**
 * The editor's UI state: which panel and tab are open, the save dialog, the trace,
 * the connect hint, the clipboard. Apart from the document store (graphStore), so a
 * document change and a panel change never share an update, and undo never touches the UI.
 * (Selection stays on the canvas nodes: React Flow owns it there.)
 */
import { create } from "zustand";
import type { Clip, JsonObject } from "../graph-core";
import type { Draft } from "../files";

export type Tab = "edit" | "run" | "history" | "releases" | "runs";
/** With a run shown: "inspect" (a click on a step shows its span) or "edit" (a click opens its settings). */
export type CanvasMode = "edit" | "inspect";

export interface EditorUi {
  tab: Tab;
  mode: CanvasMode;
  /** The save dialog is open, or a save is under way. */
  saving: false | "dialog" | "busy";
  /** A run is being started (saved first when the flow has changes). */
  starting: boolean;
  traceOpen: boolean;
  selectedSpan: string | null;
  help: boolean;
  /** Whether the server checked the last edit ("offline": only the browser's checks ran). */
  serverCheck: "ok" | "checking" | "offline";
  /** Unsaved changes found in this browser that differ from the saved flow. */
  draftOffer: Draft | null;
  /** Bumped when versions or runs change: the history and runs panels fetch again. */
  bump: number;
  /** Why the edge being drawn would be refused (shown while dragging and after). */
  connectHint: string | null;
  clipboard: Clip | null;
  /** What the run form holds: field values (a flow with named inputs) or raw JSON, and why it cannot run yet. */
  runValues: JsonObject;
  runRaw: string;
  runError: string | null;
  /** "Run fresh (skip cache)": the next run asks every model again (its answers still refresh the cache). */
  runFresh: boolean;
  set(patch: Partial<Omit<EditorUi, "set" | "reset" | "refresh" | "setConnectHint">>): void;
  refresh(): void;
  setConnectHint(hint: string | null): void;
  /** A fresh editor (a page opens another flow). */
  reset(): void;
}

const initial = {
  tab: "edit" as Tab, mode: "edit" as CanvasMode, saving: false as const, starting: false, traceOpen: false, selectedSpan: null, help: false,
  serverCheck: "ok" as const, draftOffer: null, bump: 0, connectHint: null, clipboard: null,
  runValues: {} as JsonObject, runRaw: "{}", runError: null, runFresh: false,
};

export const useEditorUi = create<EditorUi>((set, get) => ({
  ...initial,
  set: (patch) => set(patch),
  refresh: () => set((s) => ({ bump: s.bump + 1 })),
  setConnectHint: (hint) => {
    if (get().connectHint !== hint) set({ connectHint: hint });
  },
  reset: () => set({ ...initial, clipboard: get().clipboard }),
}));
