import { ReactFlowProvider, useReactFlow } from "@xyflow/react";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { Account } from "../ui/TopBar";
import { ApiError, errorText } from "../api/client";
import { cancelRun, createGraph, getGraph, getRun, saveGraph, startRun, validateGraph } from "../api/endpoints";
import { forgetGraphChoices, loadCatalogue, loadGraphChoices, loadModels } from "../api/hooks";
import type { GraphDetail, ModelAlias, RunRecord } from "../api/types";
import { Canvas } from "../editor/Canvas";
import { FlowSettings } from "../editor/FlowSettings";
import { HistoryPanel } from "../editor/HistoryPanel";
import { Inspector, MultiSelection } from "../editor/Inspector";
import { Palette } from "../editor/Palette";
import { RunForm, RunHeader } from "../editor/RunPanel";
import { RunsPanel } from "../editor/RunsPanel";
import { TraceView } from "../editor/TraceView";
import { clearDraft, downloadSpec, FileProblem, loadDraft, pickFile, readSpecFile, saveDraft, type Draft } from "../files";
import { pinProblems, portableRefs, structuralProblems, withRefNames, type Catalogue, type GraphSpec, type Json } from "../graph-core";
import { when } from "../format";
import { navigate, setNavigationGuard } from "../router";
import { useGraph } from "../stores/graphStore";
import { useRun } from "../stores/runStore";
import { ErrorBoundary } from "../ui/ErrorBoundary";
import { Modal } from "../ui/Modal";
import { toast } from "../ui/toasts";
import { TopBar } from "../ui/TopBar";

type Tab = "edit" | "run" | "history" | "runs";

interface Loaded {
  catalogue: Catalogue;
  models: ModelAlias[];
  graph: GraphDetail | null;
}

export function EditorPage(props: { graphId: number | "new"; runId: string | null; account: Account }) {
  return (
    <ReactFlowProvider>
      <Editor {...props} />
    </ReactFlowProvider>
  );
}

const UNSAVED = "You have unsaved changes. Leave anyway? (A draft stays saved in this browser.)";

function Editor({ graphId, runId, account }: { graphId: number | "new"; runId: string | null; account: Account }) {
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [draftOffer, setDraftOffer] = useState<Draft | null>(null);
  const [tab, setTab] = useState<Tab>("edit");
  const [saving, setSaving] = useState<false | "dialog" | "busy">(false);
  const [starting, setStarting] = useState(false);
  const [traceOpen, setTraceOpen] = useState(false);
  const [selectedSpan, setSelectedSpan] = useState<string | null>(null);
  const [bump, setBump] = useState(0);
  const [help, setHelp] = useState(false);
  const [serverCheck, setServerCheck] = useState<"ok" | "checking" | "offline">("ok");
  const flow = useReactFlow();
  const dirty = useGraph((s) => s.revision !== s.savedRevision);
  const revision = useGraph((s) => s.revision);
  const savedVersion = useGraph((s) => s.savedVersion);
  const name = useGraph((s) => s.meta.name);
  const problemCount = useGraph((s) => s.problems.length);
  const canUndo = useGraph((s) => s.past.length > 0);
  const canRedo = useGraph((s) => s.future.length > 0);
  const selectedIds = useGraph((s) => s.nodes.filter((n) => n.selected).map((n) => n.id).join(","));
  const selectedNode = useGraph((s) => (selectedIds && !selectedIds.includes(",") ? s.nodes.find((n) => n.id === selectedIds) : undefined));
  const runActive = useRun((s) => s.runId !== null);
  const runStatus = useRun((s) => s.status);
  const draftKey = graphId;

  // Load the catalogue, the models and the graph (or the draft of a new one).
  const load = useCallback(async () => {
    setLoadError(null);
    try {
      forgetGraphChoices(); // subgraph pickers offer the graphs as they are now (names, versions)
      const [catalogue, models, graph] = await Promise.all([
        loadCatalogue(), loadModels(), graphId === "new" ? Promise.resolve(null) : getGraph(graphId),
      ]);
      const draft = loadDraft(draftKey);
      if (graph?.spec) {
        useGraph.getState().load({ graphId: graph.id, spec: graph.spec, catalogue, version: graph.latest_version?.number ?? null });
        if (draft && JSON.stringify(draft.spec) !== JSON.stringify(graph.spec)) setDraftOffer(draft);
      } else {
        const spec = draft?.spec ?? { schema: "patchbay.graph/v1", name: "untitled-flow", nodes: [], edges: [] };
        useGraph.getState().load({ graphId: null, spec, catalogue, version: null, dirty: true });
        if (draft?.problems) useGraph.getState().setProblems(pinProblems(draft.problems, spec, catalogue));
      }
      setLoaded({ catalogue, models, graph });
      requestAnimationFrame(() => flow.fitView({ padding: 0.2, maxZoom: 1.1 }));
    } catch (e) {
      setLoadError(e);
    }
  }, [graphId, draftKey, flow]);

  useEffect(() => {
    useRun.getState().clear();
    load();
    return () => useRun.getState().clear();
  }, [load]);

  // The run in the URL: show it (live if it is still going).
  useEffect(() => {
    if (!loaded || !runId || useRun.getState().runId === runId) return;
    getRun(runId).then(
      (run) => {
        useRun.getState().show(run, useGraph.getState().nodes.map((n) => n.id));
        setTraceOpen(true);
      },
      (e) => toast.error(errorText(e)),
    );
  }, [loaded, runId]);

  // Validate as the user goes: the server's checks, pinned to nodes and fields; the client's when offline.
  useEffect(() => {
    if (!loaded) return;
    const timer = window.setTimeout(async () => {
      const spec = useGraph.getState().spec();
      const at = useGraph.getState().revision;
      setServerCheck("checking");
      try {
        const result = await validateGraph(spec);
        if (useGraph.getState().revision !== at) return;
        useGraph.getState().setProblems(pinProblems(result.problems, spec, loaded.catalogue));
        setServerCheck("ok");
      } catch (e) {
        if (useGraph.getState().revision !== at) return;
        useGraph.getState().setProblems(pinProblems(structuralProblems(spec, loaded.catalogue), spec, loaded.catalogue));
        setServerCheck(e instanceof ApiError && e.status === 0 ? "offline" : "ok");
      }
    }, 450);
    return () => window.clearTimeout(timer);
  }, [revision, loaded]);

  // Never lose work silently: a draft in localStorage, a warning before leaving.
  useEffect(() => {
    if (!loaded) return;
    const timer = window.setTimeout(() => {
      const s = useGraph.getState();
      if (s.isDirty()) saveDraft(draftKey, { spec: s.spec(), baseVersion: s.savedVersion, savedAt: Date.now() });
      else if (!draftOffer) clearDraft(draftKey);
    }, 400);
    return () => window.clearTimeout(timer);
  }, [revision, loaded, draftKey, draftOffer]);

  useEffect(() => {
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      if (useGraph.getState().isDirty()) {
        const s = useGraph.getState();
        saveDraft(draftKey, { spec: s.spec(), baseVersion: s.savedVersion, savedAt: Date.now() });
        e.preventDefault();
        e.returnValue = UNSAVED;
      }
    };
    window.addEventListener("beforeunload", onBeforeUnload);
    setNavigationGuard(() => !useGraph.getState().isDirty() || window.confirm(UNSAVED));
    return () => {
      window.removeEventListener("beforeunload", onBeforeUnload);
      setNavigationGuard(null);
    };
  }, [draftKey]);

  const save = useCallback(async (message: string): Promise<boolean> => {
    const s = useGraph.getState();
    const spec = s.spec();
    const at = s.revision;
    setSaving("busy");
    try {
      if (s.graphId === null) {
        const g = await createGraph(spec, message || "Created");
        clearDraft("new");
        useGraph.getState().markSaved(g.latest_version?.number ?? 1, g.id);
        toast.success(`Saved “${g.name}” as version ${g.latest_version?.number ?? 1}.`);
        navigate(`/graphs/${g.id}`, { replace: true, force: true });
        return true;
      }
      const g = await saveGraph(s.graphId, spec, message);
      if (useGraph.getState().revision === at) useGraph.getState().markSaved(g.latest_version?.number ?? null);
      clearDraft(draftKey);
      setDraftOffer(null);
      setBump((b) => b + 1);
      toast.success(g.created_version ? `Saved as version ${g.latest_version?.number}.` : "Nothing changed since the last version.");
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.problems.length) {
        useGraph.getState().setProblems(pinProblems(e.problems, spec, useGraph.getState().catalogue));
        toast.error(`Not saved: ${e.problems.length} problem${e.problems.length > 1 ? "s" : ""} to fix first. They are marked on the steps.`);
      } else {
        toast.error(`Not saved. ${errorText(e)}`);
      }
      return false;
    } finally {
      setSaving(false);
    }
  }, [draftKey]);

  const run = useCallback(async (input: Json, version?: number) => {
    const s = useGraph.getState();
    if (s.graphId === null) {
      toast.info("Save the flow once before running it.");
      setSaving("dialog");
      return;
    }
    setStarting(true);
    try {
      if (s.isDirty() && !(await save("Saved before a run"))) return;
      const record = await startRun(s.graphId, input, version);
      useRun.getState().follow(record, useGraph.getState().nodes.map((n) => n.id));
      setSelectedSpan(null);
      navigate(`/graphs/${s.graphId}/runs/${record.id}`, { force: true });
      setBump((b) => b + 1);
    } catch (e) {
      if (e instanceof ApiError && e.problems.length) toast.error(`The run did not start: ${e.problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`);
      else toast.error(`The run did not start. ${errorText(e)}`);
    } finally {
      setStarting(false);
    }
  }, [save]);

  const stop = useCallback(async () => {
    const id = useRun.getState().runId;
    if (!id) return;
    try {
      await cancelRun(id);
      toast.info("Stopping the run…");
    } catch (e) {
      toast.error(errorText(e));
    }
  }, []);

  const closeRun = () => {
    useRun.getState().clear();
    setTraceOpen(false);
    if (typeof graphId === "number") navigate(`/graphs/${graphId}`, { force: true });
  };

  const importInto = async () => {
    const file = await pickFile();
    if (!file) return;
    try {
      const spec = portableRefs(await readSpecFile(file), await loadGraphChoices(), loaded?.graph?.workspace ?? null);
      useGraph.getState().replaceSpec(spec);
      requestAnimationFrame(() => flow.fitView({ padding: 0.2 }));
      toast.success(`Imported “${file.name}”. Review it, then save to keep it (Undo brings the previous flow back).`);
    } catch (e) {
      toast.error(e instanceof FileProblem ? e.message : errorText(e));
    }
  };

  const addAtCenter = (type: string) => {
    const rect = document.querySelector(".canvas")?.getBoundingClientRect();
    const p = flow.screenToFlowPosition({ x: (rect?.left ?? 0) + (rect?.width ?? 800) / 2, y: (rect?.top ?? 0) + (rect?.height ?? 600) / 2 });
    useGraph.getState().addNode(type, { x: Math.round(p.x - 110 + Math.random() * 40), y: Math.round(p.y - 40 + Math.random() * 40) }, loaded?.models.find((m) => m.enabled)?.alias);
    setTab("edit");
  };

  // Keyboard shortcuts.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      const typing = t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
      const mod = e.ctrlKey || e.metaKey;
      const g = useGraph.getState();
      if (mod && e.key.toLowerCase() === "s") {
        e.preventDefault();
        setSaving("dialog");
        return;
      }
      if (mod && e.key === "Enter") {
        e.preventDefault();
        setTab("run");
        (document.querySelector("[data-testid=run-start]") as HTMLButtonElement | null)?.click();
        return;
      }
      if (typing) return;
      if (mod && e.key.toLowerCase() === "z" && !e.shiftKey) { e.preventDefault(); g.undo(); }
      else if (mod && (e.key.toLowerCase() === "y" || (e.key.toLowerCase() === "z" && e.shiftKey))) { e.preventDefault(); g.redo(); }
      else if (mod && e.key.toLowerCase() === "c") { const n = g.copySelection(); if (n) toast.info(`Copied ${n} step${n > 1 ? "s" : ""}.`); }
      else if (mod && e.key.toLowerCase() === "v") { g.paste(); }
      else if (mod && e.key.toLowerCase() === "d") { e.preventDefault(); if (g.copySelection()) g.paste(); }
      else if (mod && e.key.toLowerCase() === "a") { e.preventDefault(); g.selectAll(); }
      else if (!mod && e.key.toLowerCase() === "f") flow.fitView({ padding: 0.2, duration: 200 });
      else if (!mod && e.key.toLowerCase() === "l") { g.autoLayout(); requestAnimationFrame(() => flow.fitView({ padding: 0.2, duration: 200 })); }
      else if (e.key === "?") setHelp(true);
      else if (e.key === "Escape") g.select(null);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [flow]);

  useEffect(() => {
    (window as unknown as { __patchbay: Record<string, unknown> }).__patchbay.flow = flow;
  }, [flow]);

  // The canvas changes size when the trace opens or closes: keep the flow in view.
  useEffect(() => {
    const t = window.setTimeout(() => flow.fitView({ padding: 0.15, maxZoom: 1.1, duration: 150 }), 60);
    return () => window.clearTimeout(t);
  }, [traceOpen, flow]);

  // While the trace is open, clicking a step shows its span.
  const onNodeClick = useCallback((id: string) => {
    setTab((t) => (t === "run" ? t : "edit"));
    const span = useRun.getState().spans.find((s) => s.kind === "node" && s.node_id === id);
    if (span) {
      setSelectedSpan(span.span_id);
      setTraceOpen(true);
    }
  }, []);

  const rerun = useCallback((r: RunRecord) => run(r.input as Json), [run]);
  const openRun = useCallback((r: RunRecord) => navigate(`/graphs/${r.graph}/runs/${r.id}`, { force: true }), []);
  const defaultModel = useMemo(() => loaded?.models.find((m) => m.enabled)?.alias, [loaded]);

  if (loadError) {
    return (
      <div className="page">
        <TopBar account={account} />
        <div className="center-page">
          <div className="card narrow" role="alert">
            <h1>This flow could not be opened</h1>
            <p>{errorText(loadError)}</p>
            <div className="row"><button className="btn btn-primary" onClick={load}>Try again</button><button className="btn" onClick={() => navigate("/")}>Back to your flows</button></div>
          </div>
        </div>
      </div>
    );
  }
  if (!loaded) return <div className="page"><TopBar account={account} /><div className="center-page muted">Opening the flow…</div></div>;

  const statusText = graphId === "new" ? "Not saved yet" : dirty ? "Unsaved changes" : savedVersion ? `Saved · v${savedVersion}` : "Saved";
  return (
    <div className="page editor-page">
      <TopBar account={account}>
        <button className="btn btn-ghost" onClick={() => navigate("/")}>← Flows</button>
        <span className="flow-name" data-testid="flow-title">{name || "untitled"}</span>
        <span className={`save-state ${dirty ? "dirty" : ""}`} data-testid="save-state">{statusText}</span>
        {serverCheck === "offline" && <span className="warn small">Server unreachable: checks run in the browser only</span>}
        <span className="grow" />
        <div className="toolbar">
          <button className="btn btn-ghost" onClick={() => useGraph.getState().undo()} disabled={!canUndo} title="Undo (Ctrl+Z)" data-testid="undo">↶</button>
          <button className="btn btn-ghost" onClick={() => useGraph.getState().redo()} disabled={!canRedo} title="Redo (Ctrl+Shift+Z)" data-testid="redo">↷</button>
          <button className="btn btn-ghost" onClick={() => { useGraph.getState().autoLayout(); requestAnimationFrame(() => flow.fitView({ padding: 0.2, duration: 200 })); }} title="Tidy up (L)" data-testid="auto-layout">Tidy up</button>
          <button className="btn btn-ghost" onClick={() => flow.fitView({ padding: 0.2, duration: 200 })} title="Zoom to fit (F)">Fit</button>
          <button className="btn btn-ghost" onClick={importInto} data-testid="import-into">Import</button>
          <button className="btn btn-ghost" onClick={async () => downloadSpec(withRefNames(useGraph.getState().spec(), await loadGraphChoices().catch(() => [])))} data-testid="export">Export</button>
          <button className="btn btn-ghost" onClick={() => setHelp(true)} title="Keyboard shortcuts (?)">?</button>
          <button className={`btn ${problemCount ? "btn-warn" : ""}`} onClick={() => setSaving("dialog")} disabled={saving === "busy"} data-testid="save">
            {saving === "busy" ? "Saving…" : "Save"}
          </button>
          <button className="btn btn-primary" onClick={() => setTab("run")} data-testid="tab-run-top">▶ Run</button>
        </div>
      </TopBar>
      {draftOffer && (
        <div className="banner" data-testid="draft-banner">
          Unsaved changes from {when(new Date(draftOffer.savedAt).toISOString())} were found in this browser
          {draftOffer.baseVersion && savedVersion && draftOffer.baseVersion < savedVersion ? ` (made on version ${draftOffer.baseVersion}; the flow is now at version ${savedVersion})` : ""}.
          <button className="btn btn-small btn-primary" onClick={() => {
            const s = useGraph.getState();
            s.load({ graphId: s.graphId, spec: draftOffer.spec, catalogue: s.catalogue, version: s.savedVersion, dirty: true });
            setDraftOffer(null);
          }}>Bring them back</button>
          <button className="btn btn-small" onClick={() => { clearDraft(draftKey); setDraftOffer(null); }}>Discard</button>
        </div>
      )}
      <div className="workspace">
        <ErrorBoundary area="palette"><Palette onAdd={addAtCenter} /></ErrorBoundary>
        <div className="center">
          {runActive && <RunHeader onStop={stop} onTrace={() => setTraceOpen((o) => !o)} onClose={closeRun} traceOpen={traceOpen} />}
          <ErrorBoundary area="canvas">
            <Canvas defaultModel={defaultModel} onNodeClick={onNodeClick} />
          </ErrorBoundary>
          <ProblemsBar onPick={(id) => { useGraph.getState().select(id); setTab("edit"); }} />
          {traceOpen && runActive && (
            <ErrorBoundary area="trace view">
              <TraceView selected={selectedSpan} onSelect={setSelectedSpan} onClose={() => setTraceOpen(false)} />
            </ErrorBoundary>
          )}
        </div>
        <aside className="side">
          <nav className="tabs" role="tablist">
            {([["edit", selectedNode ? "Step" : "Flow"], ["run", "Run"], ["history", "History"], ["runs", "Runs"]] as [Tab, string][]).map(([t, label]) => (
              <button key={t} role="tab" aria-selected={tab === t} className={tab === t ? "active" : ""} onClick={() => setTab(t)} data-testid={`tab-${t}`}>{label}</button>
            ))}
          </nav>
          <div className="side-body">
            <ErrorBoundary area="side panel" key={`${tab}-${selectedIds}`}>
              {tab === "edit" && (selectedNode ? <Inspector node={selectedNode} models={loaded.models} /> : selectedIds.includes(",") ? <MultiSelection count={selectedIds.split(",").length} /> : <FlowSettings />)}
              {tab === "run" && <RunForm graphKey={String(graphId)} onRun={(input) => run(input)} busy={starting || runStatus === "queued"} />}
              {tab === "history" && (typeof graphId === "number"
                ? <HistoryPanel graphId={graphId} bump={bump} dirty={dirty} onRestored={(g) => {
                  if (g.spec) useGraph.getState().load({ graphId: g.id, spec: g.spec, catalogue: loaded.catalogue, version: g.latest_version?.number ?? null });
                  clearDraft(draftKey);
                  setBump((b) => b + 1);
                }} />
                : <p className="muted">Save the flow to start its history.</p>)}
              {tab === "runs" && (typeof graphId === "number" ? <RunsPanel graphId={graphId} bump={`${bump}-${runStatus}`} onOpen={openRun} onRerun={rerun} /> : <p className="muted">No run yet.</p>)}
            </ErrorBoundary>
          </div>
        </aside>
      </div>
      {saving === "dialog" && <SaveDialog onClose={() => setSaving(false)} onSave={async (m) => { if (await save(m)) setSaving(false); }} />}
      {help && <ShortcutsHelp onClose={() => setHelp(false)} />}
    </div>
  );
}

function ProblemsBar({ onPick }: { onPick: (nodeId: string) => void }) {
  const problems = useGraph((s) => s.problems);
  const [open, setOpen] = useState(false);
  if (!problems.length) return null;
  return (
    <div className={`problems ${open ? "open" : ""}`} data-testid="problems-bar">
      <button className="problems-toggle" onClick={() => setOpen(!open)}>
        ⚠ {problems.length} problem{problems.length > 1 ? "s" : ""} to fix before this flow can be saved {open ? "▾" : "▸"}
      </button>
      {open && (
        <ul>
          {problems.map((p, i) => (
            <li key={i}>
              {p.nodeId ? <button className="link" onClick={() => onPick(p.nodeId!)}>{p.nodeId}</button> : null} {p.text}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function SaveDialog({ onClose, onSave }: { onClose: () => void; onSave: (message: string) => void }) {
  const [message, setMessage] = useState("");
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <Modal title="Save a new version" onClose={onClose} testId="save-dialog">
      <form onSubmit={(e) => { e.preventDefault(); onSave(message); }}>
        <label className="field">
          <span className="field-label">What changed? (optional)</span>
          <input ref={ref} value={message} maxLength={500} onChange={(e) => setMessage(e.target.value)} placeholder="e.g. Stricter extraction prompt" data-testid="save-message" />
        </label>
        <p className="muted small">Versions are kept for good: you can compare and restore any of them from History.</p>
        <div className="row end">
          <button type="button" className="btn" onClick={onClose}>Cancel</button>
          <button className="btn btn-primary" type="submit" data-testid="save-confirm">Save version</button>
        </div>
      </form>
    </Modal>
  );
}

function ShortcutsHelp({ onClose }: { onClose: () => void }) {
  const rows: [string, string][] = [
    ["Ctrl+S", "Save a version"], ["Ctrl+Enter", "Run"], ["Ctrl+Z / Ctrl+Shift+Z", "Undo / redo"],
    ["Ctrl+C / Ctrl+V", "Copy / paste steps"], ["Ctrl+D", "Duplicate the selection"], ["Ctrl+A", "Select every step"],
    ["Delete", "Delete the selection"], ["Shift+drag", "Select several steps"], ["F", "Zoom to fit"], ["L", "Tidy up the layout"],
    ["Esc", "Clear the selection"],
  ];
  return (
    <Modal title="Keyboard shortcuts" onClose={onClose}>
      <table className="table small"><tbody>{rows.map(([k, v]) => <tr key={k}><td><kbd>{k}</kbd></td><td>{v}</td></tr>)}</tbody></table>
    </Modal>
  );
}

// Handles for tests and the benchmark (no secrets in here: the page's own stores).
(window as unknown as { __patchbay: unknown }).__patchbay = {
  graph: useGraph,
  run: useRun,
  dropRunSocket: () => useRun.getState().dropConnection(),
  loadSpec: (spec: GraphSpec) => useGraph.getState().replaceSpec(spec),
};
