/** Validate as the user goes: the server's checks, pinned to nodes and fields; the browser's when the server is out of reach. */
import { useEffect } from "react";
import { ApiError } from "../../api/client";
import { validateGraph } from "../../api/endpoints";
import { bySeverity, pinProblems, structuralProblems, type Catalogue } from "../../graph-core";
import { useEditorUi } from "../../stores/editorUi";
import { useGraph } from "../../stores/graphStore";
import { useWarnings } from "./warnings";

/** Wait for a pause in typing before asking the server. */
const DEBOUNCE_MS = 450;

async function check(catalogue: Catalogue): Promise<void> {
  const spec = useGraph.getState().spec();
  const at = useGraph.getState().revision;
  const ui = useEditorUi.getState();
  ui.set({ serverCheck: "checking" });
  try {
    const result = await validateGraph(spec);
    if (useGraph.getState().revision !== at) return; // an edit came since: its own check will report
    const { errors, warnings } = bySeverity(pinProblems(result.problems, spec, catalogue));
    useGraph.getState().setProblems(errors);
    useWarnings.getState().set(warnings);
    ui.set({ serverCheck: "ok" });
  } catch (e) {
    if (useGraph.getState().revision !== at) return;
    useGraph.getState().setProblems(pinProblems(structuralProblems(spec, catalogue), spec, catalogue));
    ui.set({ serverCheck: e instanceof ApiError && e.status === 0 ? "offline" : "ok" });
  }
}

export function useValidation(catalogue: Catalogue | null): void {
  const revision = useGraph((s) => s.revision);
  useEffect(() => {
    if (!catalogue) return;
    const timer = window.setTimeout(() => check(catalogue), DEBOUNCE_MS);
    return () => window.clearTimeout(timer);
  }, [revision, catalogue]);
}
