/**
 * The flow editor: composes the session hooks (load, validation, draft, leave guard, shortcuts)
 * and the editor's panels. Actions (save, run, stop, import) are plain functions in editor/session,
 * called directly by buttons and shortcuts alike.
 */
import { ReactFlowProvider, useReactFlow } from "@xyflow/react";
import { useEffect, useMemo } from "react";
import { errorText } from "../api/client";
import { Canvas } from "../editor/Canvas";
import { DraftBanner } from "../editor/DraftBanner";
import { EditorDialogs } from "../editor/EditorDialogs";
import { EditorToolbar, FlowTitle } from "../editor/EditorToolbar";
import { Palette } from "../editor/Palette";
import { ProblemsBar } from "../editor/ProblemsBar";
import { RunHeader } from "../editor/RunPanel";
import { clickStep, closeRun, stopRun } from "../editor/session/running";
import { shortcuts, useShortcuts } from "../editor/session/shortcuts";
import { useCanvasActions } from "../editor/session/useCanvasActions";
import { useDraftAutosave, useLeaveGuard } from "../editor/session/useDraft";
import { useGraphLoad, useRunFromUrl, type GraphKey, type Loaded } from "../editor/session/useGraphLoad";
import { useValidation } from "../editor/session/useValidation";
import { SidePanel } from "../editor/SidePanel";
import { TraceView } from "../editor/TraceView";
import { navigate } from "../router";
import { useEditorUi } from "../stores/editorUi";
import { useRun } from "../stores/runStore";
import { exposeFlow } from "../testHandles";
import { ErrorBoundary } from "../ui/ErrorBoundary";
import { TopBar, type Account } from "../ui/TopBar";

interface Props {
  graphId: GraphKey;
  runId: string | null;
  account: Account;
}

export function EditorPage(props: Props) {
  return (
    <ReactFlowProvider>
      <Editor {...props} />
    </ReactFlowProvider>
  );
}

function Editor({ graphId, runId, account }: Props) {
  const { loaded, loadError, load } = useGraphLoad(graphId);
  useRunFromUrl(loaded, runId);
  useValidation(loaded?.catalogue ?? null);
  useDraftAutosave(graphId, !!loaded);
  useLeaveGuard(graphId);
  useFlowInView();

  if (loadError) return <LoadFailed account={account} error={loadError} onRetry={load} />;
  if (!loaded) return <div className="page"><TopBar account={account} /><div className="center-page muted">Opening the flow…</div></div>;
  return <Workspace graphId={graphId} loaded={loaded} account={account} />;
}

/** Keep the flow in view when the canvas changes size (the trace opens or closes); give tests the view. */
function useFlowInView(): void {
  const flow = useReactFlow();
  const traceOpen = useEditorUi((s) => s.traceOpen);
  useEffect(() => exposeFlow(flow), [flow]);
  useEffect(() => {
    const t = window.setTimeout(() => flow.fitView({ padding: 0.15, maxZoom: 1.1, duration: 150 }), 60);
    return () => window.clearTimeout(t);
  }, [traceOpen, flow]);
}

function Workspace({ graphId, loaded, account }: { graphId: GraphKey; loaded: Loaded; account: Account }) {
  const defaultModel = useMemo(() => loaded.models.find((m) => m.enabled)?.alias, [loaded]);
  const actions = useCanvasActions(defaultModel, loaded.graph?.workspace ?? null);
  const graphKey = String(graphId);
  const table = useMemo(() => shortcuts(actions, graphKey), [actions, graphKey]);
  useShortcuts(actions, graphKey);
  return (
    <div className="page editor-page">
      <TopBar account={account}>
        <button className="btn btn-ghost" onClick={() => navigate("/")}>← Flows</button>
        <FlowTitle isNew={graphId === "new"} />
        <span className="grow" />
        <EditorToolbar actions={actions} />
      </TopBar>
      <DraftBanner draftKey={graphId} />
      <div className="workspace">
        <ErrorBoundary area="palette"><Palette onAdd={actions.addAtCenter} /></ErrorBoundary>
        <CenterColumn graphId={graphId} defaultModel={defaultModel} />
        <SidePanel graphId={graphId} loaded={loaded} />
      </div>
      <EditorDialogs shortcuts={table} />
    </div>
  );
}

function CenterColumn({ graphId, defaultModel }: { graphId: GraphKey; defaultModel: string | undefined }) {
  const runActive = useRun((s) => s.runId !== null);
  const traceOpen = useEditorUi((s) => s.traceOpen);
  const selectedSpan = useEditorUi((s) => s.selectedSpan);
  const ui = useEditorUi.getState();
  return (
    <div className="center">
      {runActive && <RunHeader onStop={stopRun} onTrace={() => ui.set({ traceOpen: !traceOpen })} onClose={() => closeRun(graphId)} traceOpen={traceOpen} />}
      <ErrorBoundary area="canvas">
        <Canvas defaultModel={defaultModel} onNodeClick={clickStep} />
      </ErrorBoundary>
      <ProblemsBar />
      {traceOpen && runActive && (
        <ErrorBoundary area="trace view">
          <TraceView selected={selectedSpan} onSelect={(id) => ui.set({ selectedSpan: id })} onClose={() => ui.set({ traceOpen: false })} />
        </ErrorBoundary>
      )}
    </div>
  );
}

function LoadFailed({ account, error, onRetry }: { account: Account; error: unknown; onRetry: () => void }) {
  return (
    <div className="page">
      <TopBar account={account} />
      <div className="center-page">
        <div className="card narrow" role="alert">
          <h1>This flow could not be opened</h1>
          <p>{errorText(error)}</p>
          <div className="row"><button className="btn btn-primary" onClick={onRetry}>Try again</button><button className="btn" onClick={() => navigate("/")}>Back to your flows</button></div>
        </div>
      </div>
    </div>
  );
}
