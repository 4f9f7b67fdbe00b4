/** Opening a flow: the catalogue, the models and the graph (or the draft of a new one), and the run named in the URL. */
import { useReactFlow } from "@xyflow/react";
import { useCallback, useEffect, useState } from "react";
import { errorText } from "../../api/client";
import { getGraph, getRun } from "../../api/endpoints";
import { forgetGraphChoices, loadCatalogue, loadModels } from "../../api/hooks";
import type { GraphDetail, ModelAlias } from "../../api/types";
import { loadDraft } from "../../files";
import { lastRunInput } from "../runInput";
import { pinProblems, SCHEMA_ID, type Catalogue, type GraphSpec } from "../../graph-core";
import { useEditorUi } from "../../stores/editorUi";
import { useGraph } from "../../stores/graphStore";
import { useRun } from "../../stores/runStore";
import { toast } from "../../ui/toasts";
import { useWarnings } from "./warnings";

export type GraphKey = number | "new";

export interface Loaded {
  catalogue: Catalogue;
  models: ModelAlias[];
  graph: GraphDetail | null;
}

const BLANK: GraphSpec = { schema: SCHEMA_ID, name: "untitled-flow", nodes: [], edges: [] };

async function openFlow(graphId: GraphKey): Promise<Loaded> {
  forgetGraphChoices(); // subgraph pickers offer the graphs as they are now (names, versions)
  const [catalogue, models, graph] = await Promise.all([
    loadCatalogue(), loadModels(), graphId === "new" ? Promise.resolve(null) : getGraph(graphId),
  ]);
  const draft = loadDraft(graphId);
  const store = useGraph.getState();
  useWarnings.getState().set([]); // another flow's warnings; its own come with its first check
  if (graph?.spec) {
    store.load({ graphId: graph.id, spec: graph.spec, catalogue, version: graph.latest_version?.number ?? null });
    if (draft && JSON.stringify(draft.spec) !== JSON.stringify(graph.spec)) useEditorUi.getState().set({ draftOffer: draft });
  } else {
    const spec = draft?.spec ?? BLANK;
    store.load({ graphId: null, spec, catalogue, version: null, dirty: true });
    if (draft?.problems) store.setProblems(pinProblems(draft.problems, spec, catalogue));
  }
  return { catalogue, models, graph };
}

export function useGraphLoad(graphId: GraphKey) {
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const flow = useReactFlow();

  const load = useCallback(async () => {
    setLoadError(null);
    try {
      setLoaded(await openFlow(graphId));
      requestAnimationFrame(() => flow.fitView({ padding: 0.2, maxZoom: 1.1 }));
    } catch (e) {
      setLoadError(e);
    }
  }, [graphId, flow]);

  useEffect(() => {
    useRun.getState().clear();
    useEditorUi.getState().reset();
    useEditorUi.getState().set({ runValues: lastRunInput(String(graphId)) });
    load();
    return () => useRun.getState().clear();
  }, [load]);

  return { loaded, loadError, load };
}

/** The run in the URL: show it (live if it is still going). */
export function useRunFromUrl(loaded: Loaded | null, runId: string | null): void {
  useEffect(() => {
    if (!loaded || !runId || useRun.getState().runId === runId) return;
    getRun(runId).then(
      (run) => {
        useRun.getState().show(run, useGraph.getState().nodes.map((n) => n.id));
        useEditorUi.getState().set({ traceOpen: true, mode: "inspect" });
      },
      (e) => toast.error(errorText(e)),
    );
  }, [loaded, runId]);
}
