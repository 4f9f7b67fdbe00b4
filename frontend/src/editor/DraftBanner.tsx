/** Unsaved changes from an earlier visit, found in this browser: bring them back or discard them. */
import { when } from "../format";
import { useEditorUi } from "../stores/editorUi";
import { useGraph } from "../stores/graphStore";
import { discardDraft, restoreDraft } from "./session/useDraft";
import type { GraphKey } from "./session/useGraphLoad";

export function DraftBanner({ draftKey }: { draftKey: GraphKey }) {
  const offer = useEditorUi((s) => s.draftOffer);
  const savedVersion = useGraph((s) => s.savedVersion);
  if (!offer) return null;
  const older = offer.baseVersion && savedVersion && offer.baseVersion < savedVersion;
  return (
    <div className="banner" data-testid="draft-banner">
      Unsaved changes from {when(new Date(offer.savedAt).toISOString())} were found in this browser
      {older ? ` (made on version ${offer.baseVersion}; the flow is now at version ${savedVersion})` : ""}.
      <button className="btn btn-small btn-primary" onClick={restoreDraft}>Bring them back</button>
      <button className="btn btn-small" onClick={() => discardDraft(draftKey)}>Discard</button>
    </div>
  );
}
