/** Never lose work silently: a draft in this browser's storage, and a warning before leaving with unsaved changes. */
import { useEffect } from "react";
import { clearDraft, saveDraft } from "../../files";
import { setNavigationGuard } from "../../router";
import { useEditorUi } from "../../stores/editorUi";
import { useGraph } from "../../stores/graphStore";
import type { GraphKey } from "./useGraphLoad";

const UNSAVED = "You have unsaved changes. Leave anyway? (A draft stays saved in this browser.)";
const AUTOSAVE_MS = 400;

function keepDraft(key: GraphKey): void {
  const s = useGraph.getState();
  saveDraft(key, { spec: s.spec(), baseVersion: s.savedVersion, savedAt: Date.now() });
}

/** Autosave the draft after each pause in editing; drop it once the flow is saved (unless one is on offer). */
export function useDraftAutosave(key: GraphKey, active: boolean): void {
  const revision = useGraph((s) => s.revision);
  const draftOffer = useEditorUi((s) => s.draftOffer);
  useEffect(() => {
    if (!active) return;
    const timer = window.setTimeout(() => {
      if (useGraph.getState().isDirty()) keepDraft(key);
      else if (!draftOffer) clearDraft(key);
    }, AUTOSAVE_MS);
    return () => window.clearTimeout(timer);
  }, [revision, active, key, draftOffer]);
}

/** Closing the tab or following a link with unsaved changes asks first (and keeps the draft). */
export function useLeaveGuard(key: GraphKey): void {
  useEffect(() => {
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      if (!useGraph.getState().isDirty()) return;
      keepDraft(key);
      e.preventDefault();
      e.returnValue = UNSAVED;
    };
    window.addEventListener("beforeunload", onBeforeUnload);
    setNavigationGuard(() => !useGraph.getState().isDirty() || window.confirm(UNSAVED));
    return () => {
      window.removeEventListener("beforeunload", onBeforeUnload);
      setNavigationGuard(null);
    };
  }, [key]);
}

/** The draft on offer: bring it back into the editor, or throw it away. */
export function restoreDraft(): void {
  const offer = useEditorUi.getState().draftOffer;
  if (!offer) return;
  const s = useGraph.getState();
  s.load({ graphId: s.graphId, spec: offer.spec, catalogue: s.catalogue, version: s.savedVersion, dirty: true });
  useEditorUi.getState().set({ draftOffer: null });
}

export function discardDraft(key: GraphKey): void {
  clearDraft(key);
  useEditorUi.getState().set({ draftOffer: null });
}
