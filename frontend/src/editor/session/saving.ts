/** Saving a version: a new flow is created, an existing one gets a version (or none, when nothing changed). */
import { ApiError, errorText } from "../../api/client";
import { createGraph, saveGraph } from "../../api/endpoints";
import type { VersionReason } from "../../api/types";
import { clearDraft } from "../../files";
import { pinProblems, type GraphSpec } from "../../graph-core";
import { navigate } from "../../router";
import { useEditorUi } from "../../stores/editorUi";
import { useGraph } from "../../stores/graphStore";
import { toast } from "../../ui/toasts";

async function createFlow(spec: GraphSpec, message: string): Promise<void> {
  const g = await createGraph(spec, message || "Created");
  clearDraft("new");
  useGraph.getState().markSaved(g.latest_version?.number ?? 1, g.id);
  toast.success(`Saved “${g.name}” as version ${g.latest_version?.number ?? 1}.`);
  navigate(`/graphs/${g.id}`, { replace: true, force: true });
}

async function saveVersion(graphId: number, spec: GraphSpec, message: string, at: number, reason: VersionReason): Promise<void> {
  const g = await saveGraph(graphId, spec, message, reason);
  if (useGraph.getState().revision === at) useGraph.getState().markSaved(g.latest_version?.number ?? null);
  clearDraft(graphId);
  useEditorUi.getState().set({ draftOffer: null });
  useEditorUi.getState().refresh();
  toast.success(g.created_version ? `Saved as version ${g.latest_version?.number}.` : "Nothing changed since the last version.");
}

function reportNotSaved(e: unknown, spec: GraphSpec): void {
  if (e instanceof ApiError && e.problems.length) {
    useGraph.getState().setProblems(pinProblems(e.problems, spec, useGraph.getState().catalogue));
    toast.error(`Not saved: ${e.problems.length} problem${e.problems.length > 1 ? "s" : ""} to fix first. They are marked on the steps.`);
  } else {
    toast.error(`Not saved. ${errorText(e)}`);
  }
}

/** Save the flow as it is now; true when it was saved. ``reason`` "run": only so that a run can use it. */
export async function saveFlow(message: string, reason: VersionReason = "save"): Promise<boolean> {
  const s = useGraph.getState();
  const spec = s.spec();
  const ui = useEditorUi.getState();
  ui.set({ saving: "busy" });
  try {
    if (s.graphId === null) await createFlow(spec, message);
    else await saveVersion(s.graphId, spec, message, s.revision, reason);
    return true;
  } catch (e) {
    reportNotSaved(e, spec);
    return false;
  } finally {
    ui.set({ saving: false });
  }
}

/** The save dialog's submit: save, and close the dialog when it worked. */
export async function saveFromDialog(message: string): Promise<void> {
  if (await saveFlow(message)) useEditorUi.getState().set({ saving: false });
}

export function openSaveDialog(): void {
  useEditorUi.getState().set({ saving: "dialog" });
}
