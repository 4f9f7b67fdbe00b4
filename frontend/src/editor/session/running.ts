/** Starting, stopping and showing runs of the flow being edited. */
import { ApiError, errorText } from "../../api/client";
import { cancelRun, startRun } from "../../api/endpoints";
import type { RunRecord } from "../../api/types";
import type { Json } from "../../graph-core";
import { navigate } from "../../router";
import { useEditorUi } from "../../stores/editorUi";
import { useGraph } from "../../stores/graphStore";
import { useRun } from "../../stores/runStore";
import { toast } from "../../ui/toasts";
import { readRunInput, rememberRunInput } from "../runInput";
import { saveFlow } from "./saving";

/** Run the saved flow with this input (saving first when it has changes, as a version made for a run). */
export async function runFlow(input: Json, source: "canvas" | "replay" = "canvas", version?: number, fresh = false): Promise<void> {
  const s = useGraph.getState();
  const ui = useEditorUi.getState();
  if (s.graphId === null) {
    toast.info("Save the flow once before running it.");
    ui.set({ saving: "dialog" });
    return;
  }
  ui.set({ starting: true });
  try {
    if (s.isDirty() && !(await saveFlow("Saved before a run", "run"))) return;
    const record = await startRun(s.graphId, input, source, version, fresh);
    useRun.getState().follow(record, useGraph.getState().nodes.map((n) => n.id));
    ui.set({ selectedSpan: null, mode: "inspect", tab: "run" });
    navigate(`/graphs/${s.graphId}/runs/${record.id}`, { force: true });
    ui.refresh();
  } catch (e) {
    if (e instanceof ApiError && e.problems.length) toast.error(`The run did not start: ${e.problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`);
    else toast.error(`The run did not start. ${errorText(e)}`);
  } finally {
    ui.set({ starting: false });
  }
}

/** Run with what the run form holds (Ctrl+Enter and the form's button): the form shows what is missing. */
export function runFromForm(graphKey: string): void {
  const ui = useEditorUi.getState();
  ui.set({ tab: "run" });
  const read = readRunInput(useGraph.getState().meta.inputs, ui.runValues, ui.runRaw);
  ui.set({ runError: "error" in read ? read.error : null });
  if ("error" in read) return;
  if (read.remember) rememberRunInput(graphKey, read.input);
  void runFlow(read.input, "canvas", undefined, ui.runFresh);
}

export async function stopRun(): Promise<void> {
  const id = useRun.getState().runId;
  if (!id) return;
  try {
    await cancelRun(id);
    toast.info("Stopping the run…");
  } catch (e) {
    toast.error(errorText(e));
  }
}

/** Leave the run view: back to editing the flow. */
export function closeRun(graphId: number | "new"): void {
  useRun.getState().clear();
  useEditorUi.getState().set({ traceOpen: false, mode: "edit" });
  if (typeof graphId === "number") navigate(`/graphs/${graphId}`, { force: true });
}

export const rerun = (r: RunRecord) => runFlow(r.input as Json, "replay");
export const openRun = (r: RunRecord) => navigate(`/graphs/${r.graph}/runs/${r.id}`, { force: true });

/**
 * Clicking a step: inspecting a run, it shows the step's span in the trace; editing (even with a run
 * shown), it opens the step's settings.
 */
export function clickStep(nodeId: string): void {
  const ui = useEditorUi.getState();
  if (ui.mode !== "inspect" || !useRun.getState().runId) {
    ui.set({ tab: "edit" });
    return;
  }
  const span = useRun.getState().spans.find((s) => s.kind === "node" && s.node_id === nodeId);
  if (span) ui.set({ selectedSpan: span.span_id, traceOpen: true });
}
