/** The editor's top bar: the flow's name, save state and live version, undo/redo, layout, import/export, save, publish and run. */
import { navigate } from "../router";
import { useEditorUi } from "../stores/editorUi";
import { useGraph } from "../stores/graphStore";
import { useEndpoint } from "./publish/endpointState";
import { LiveBadge, PublishDialogs } from "./publish/LiveBadge";
import { openSaveDialog } from "./session/saving";
import type { CanvasActions } from "./session/useCanvasActions";

function saveStateText(isNew: boolean, dirty: boolean, savedVersion: number | null): string {
  if (isNew) return "Not saved yet";
  if (dirty) return "Unsaved changes";
  return savedVersion ? `Saved · v${savedVersion}` : "Saved";
}

export function FlowTitle({ isNew }: { isNew: boolean }) {
  const name = useGraph((s) => s.meta.name);
  const dirty = useGraph((s) => s.revision !== s.savedRevision);
  const savedVersion = useGraph((s) => s.savedVersion);
  const offline = useEditorUi((s) => s.serverCheck === "offline");
  return (
    <>
      <span className="flow-name" data-testid="flow-title">{name || "untitled"}</span>
      <span className={`save-state ${dirty ? "dirty" : ""}`} data-testid="save-state">{saveStateText(isNew, dirty, savedVersion)}</span>
      <LiveBadge />
      {offline && <span className="warn small">Server unreachable: checks run in the browser only</span>}
    </>
  );
}

/** Why the flow cannot be published right now, or null: only a saved version can go live. */
function publishBlocked(isNew: boolean, dirty: boolean): string | null {
  if (isNew) return "Save the flow first: only a saved version can be published";
  if (dirty) return "Save your changes first: only a saved version can be published";
  return null;
}

/** The saved flow's numbers: pattern metrics, the advisor's findings, a cost projection (Insights page). */
function InsightsButton() {
  const graphId = useGraph((s) => s.graphId);
  if (graphId === null) return null;
  return <button className="btn btn-ghost" onClick={() => navigate(`/insights/${graphId}`)} title="How each pattern step does on recorded runs, and what to change" data-testid="open-insights">Insights</button>;
}

function PublishButton() {
  const isNew = useGraph((s) => s.graphId === null);
  const dirty = useGraph((s) => s.revision !== s.savedRevision);
  const blocked = publishBlocked(isNew, dirty);
  return (
    <>
      <button className="btn" onClick={() => useEndpoint.getState().set({ dialog: true })} disabled={blocked !== null}
        title={blocked ?? "Publish a version as an HTTP endpoint"} data-testid="publish">Publish</button>
      <PublishDialogs />
    </>
  );
}

export function EditorToolbar({ actions }: { actions: CanvasActions }) {
  const canUndo = useGraph((s) => s.past.length > 0);
  const canRedo = useGraph((s) => s.future.length > 0);
  const problemCount = useGraph((s) => s.problems.length);
  const busy = useEditorUi((s) => s.saving === "busy");
  const g = useGraph.getState;
  return (
    <div className="toolbar">
      <button className="btn btn-ghost" onClick={() => g().undo()} disabled={!canUndo} title="Undo (Ctrl+Z)" data-testid="undo">↶</button>
      <button className="btn btn-ghost" onClick={() => g().redo()} disabled={!canRedo} title="Redo (Ctrl+Shift+Z)" data-testid="redo">↷</button>
      <button className="btn btn-ghost" onClick={actions.tidy} title="Tidy up (L)" data-testid="auto-layout">Tidy up</button>
      <button className="btn btn-ghost" onClick={actions.fit} title="Zoom to fit (F)">Fit</button>
      <button className="btn btn-ghost" onClick={actions.importInto} data-testid="import-into">Import</button>
      <button className="btn btn-ghost" onClick={actions.exportSpec} data-testid="export">Export</button>
      <button className="btn btn-ghost" onClick={() => useEditorUi.getState().set({ help: true })} title="Keyboard shortcuts (?)">?</button>
      <button className={`btn ${problemCount ? "btn-warn" : ""}`} onClick={openSaveDialog} disabled={busy} data-testid="save">
        {busy ? "Saving…" : "Save"}
      </button>
      <InsightsButton />
      <PublishButton />
      <button className="btn btn-primary" onClick={() => useEditorUi.getState().set({ tab: "run" })} data-testid="tab-run-top">▶ Run</button>
    </div>
  );
}
