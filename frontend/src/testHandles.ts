/**
 * Handles for the browser tests and the canvas benchmark: `window.__patchbay` gives them the
 * page's own stores (no secrets: what the page already holds). Installed by main.tsx only
 * when a test drives the browser (navigator.webdriver) or in the dev server; never at import time.
 */
import type { ReactFlowInstance } from "@xyflow/react";
import type { GraphSpec } from "./graph-core";
import { useGraph } from "./stores/graphStore";
import { useRun } from "./stores/runStore";

interface TestHandles {
  graph: typeof useGraph;
  run: typeof useRun;
  dropRunSocket(): void;
  loadSpec(spec: GraphSpec): void;
  /** The canvas's view (set while an editor is open). */
  flow?: ReactFlowInstance<never, never>;
}

type WithHandles = { __patchbay?: TestHandles };

export function wantTestHandles(): boolean {
  return import.meta.env.DEV || navigator.webdriver === true;
}

export function installTestHandles(): void {
  (window as WithHandles).__patchbay = {
    graph: useGraph,
    run: useRun,
    dropRunSocket: () => useRun.getState().dropConnection(),
    loadSpec: (spec) => useGraph.getState().replaceSpec(spec),
  };
}

/** Give the tests the open canvas's view, when the handles are installed. */
export function exposeFlow(flow: unknown): void {
  const handles = (window as WithHandles).__patchbay;
  if (handles) handles.flow = flow as TestHandles["flow"];
}
