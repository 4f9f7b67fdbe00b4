/** The panel beside the canvas: the selected step (or the flow's settings), the run form, the history, the releases, the runs. */
import { useLayoutEffect, useRef } from "react";
import type { ModelAlias } from "../api/types";
import { clearDraft } from "../files";
import { useEditorUi, type Tab } from "../stores/editorUi";
import { useGraph } from "../stores/graphStore";
import { useRun } from "../stores/runStore";
import { ErrorBoundary } from "../ui/ErrorBoundary";
import { FlowSettings } from "./FlowSettings";
import { HistoryPanel } from "./HistoryPanel";
import { ReleasesPanel } from "./releases/ReleasesPanel";
import { Inspector, MultiSelection } from "./Inspector";
import { RunForm } from "./RunPanel";
import { RunsPanel } from "./RunsPanel";
import { openRun, rerun } from "./session/running";
import type { GraphKey, Loaded } from "./session/useGraphLoad";

function Tabs({ stepSelected }: { stepSelected: boolean }) {
  const tab = useEditorUi((s) => s.tab);
  const tabs: [Tab, string][] = [["edit", stepSelected ? "Step" : "Flow"], ["run", "Run"], ["history", "History"], ["releases", "Releases"], ["runs", "Runs"]];
  return (
    <nav className="tabs" role="tablist">
      {tabs.map(([t, label]) => (
        <button key={t} role="tab" aria-selected={tab === t} className={tab === t ? "active" : ""}
          onClick={() => useEditorUi.getState().set({ tab: t })} data-testid={`tab-${t}`}>{label}</button>
      ))}
    </nav>
  );
}

function EditTab({ selectedIds, models }: { selectedIds: string; models: ModelAlias[] }) {
  const node = useGraph((s) => (selectedIds && !selectedIds.includes(",") ? s.nodes.find((n) => n.id === selectedIds) : undefined));
  if (node) return <Inspector node={node} models={models} />;
  if (selectedIds.includes(",")) return <MultiSelection count={selectedIds.split(",").length} />;
  return <FlowSettings />;
}

function HistoryTab({ graphId, loaded }: { graphId: GraphKey; loaded: Loaded }) {
  const bump = useEditorUi((s) => s.bump);
  const dirty = useGraph((s) => s.revision !== s.savedRevision);
  if (typeof graphId !== "number") return <p className="muted">Save the flow to start its history.</p>;
  return (
    <HistoryPanel graphId={graphId} bump={bump} dirty={dirty} onRestored={(g) => {
      if (g.spec) useGraph.getState().load({ graphId: g.id, spec: g.spec, catalogue: loaded.catalogue, version: g.latest_version?.number ?? null });
      clearDraft(graphId);
      useEditorUi.getState().refresh();
    }} />
  );
}

function ReleasesTab({ graphId }: { graphId: GraphKey }) {
  const bump = useEditorUi((s) => s.bump);
  if (typeof graphId !== "number") return <p className="muted">Save and publish the flow to make its first release.</p>;
  return <ReleasesPanel graphId={graphId} bump={bump} />;
}

function RunsTab({ graphId }: { graphId: GraphKey }) {
  const bump = useEditorUi((s) => s.bump);
  const runStatus = useRun((s) => s.status);
  if (typeof graphId !== "number") return <p className="muted">No run yet.</p>;
  return <RunsPanel graphId={graphId} bump={`${bump}-${runStatus}`} onOpen={openRun} onRerun={rerun} />;
}

/** The panel's body starts at its top when another step (or tab) is shown, not where the last one was scrolled to. */
function useScrollToTop(key: string) {
  const body = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    if (body.current) body.current.scrollTop = 0;
  }, [key]);
  return body;
}

export function SidePanel({ graphId, loaded }: { graphId: GraphKey; loaded: Loaded }) {
  const tab = useEditorUi((s) => s.tab);
  const starting = useEditorUi((s) => s.starting);
  const queued = useRun((s) => s.status === "queued");
  const selectedIds = useGraph((s) => s.nodes.filter((n) => n.selected).map((n) => n.id).join(","));
  const body = useScrollToTop(`${tab}-${selectedIds}`);
  return (
    <aside className="side">
      <Tabs stepSelected={!!selectedIds && !selectedIds.includes(",")} />
      <div className="side-body" ref={body} data-testid="side-body">
        <ErrorBoundary area="side panel" key={`${tab}-${selectedIds}`}>
          {tab === "edit" && <EditTab selectedIds={selectedIds} models={loaded.models} />}
          {tab === "run" && <RunForm graphKey={String(graphId)} busy={starting || queued} />}
          {tab === "history" && <HistoryTab graphId={graphId} loaded={loaded} />}
          {tab === "releases" && <ReleasesTab graphId={graphId} />}
          {tab === "runs" && <RunsTab graphId={graphId} />}
        </ErrorBoundary>
      </div>
    </aside>
  );
}
