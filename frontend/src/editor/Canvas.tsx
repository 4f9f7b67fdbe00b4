import {
  Background, Controls, MiniMap, ReactFlow, useReactFlow, type Connection, type Edge, type FinalConnectionState,
  type IsValidConnection, type NodeTypes,
} from "@xyflow/react";
import { useCallback, useMemo, type DragEvent } from "react";
import { checkConnection, type CanvasEdge, type CanvasNode } from "../graph-core";
import { labelStacks } from "../graph-core/edgeLabels";
import { nodePorts, useGraph } from "../stores/graphStore";
import { useEditorUi } from "../stores/editorUi";
import { useRun } from "../stores/runStore";
import { toast } from "../ui/toasts";
import { edgeTypes } from "./ExitEdge";
import { nodeTypes } from "./NodeCard";
import { patternInfo } from "./patterns";

export const DRAG_MIME = "application/x-patchbay-node";

interface Props {
  defaultModel?: string;
  onNodeClick?: (id: string) => void;
}

/** Edges as drawn: a label on exits of multi-exit steps, red when a problem names them, moving while the next step runs. */
function useShownEdges(): Edge[] {
  const nodes = useGraph((s) => s.nodes);
  const edges = useGraph((s) => s.edges);
  const catalogue = useGraph((s) => s.catalogue);
  const problems = useGraph((s) => s.problems);
  const runNodes = useRun((s) => s.nodes);
  const running = useRun((s) => s.status === "running" || s.status === "queued");
  const badEdges = useMemo(() => new Set(problems.filter((p) => p.edgeIndex !== null).map((p) => p.edgeIndex!)), [problems]);
  const exits = useMemo(() => {
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const portsOf = (id: string) => { const n = byId.get(id); return n ? nodePorts(n, catalogue) : []; };
    const labelled = edges.filter((e) => e.sourceHandle && portsOf(e.source).length > 1);
    return labelStacks(labelled, portsOf);
  }, [edges, nodes, catalogue]);
  return useMemo(() => edges.map((e, i): Edge => {
    const target = runNodes[e.target]?.status;
    const classes = [badEdges.has(i) ? "edge-problem" : "", target === "skipped" ? "edge-skipped" : ""].join(" ").trim();
    const stack = exits[e.id];
    return {
      ...e,
      ...(stack !== undefined ? { type: "exit", data: { ...e.data, exitLabel: e.sourceHandle, stack } } : {}),
      animated: running && target === "running",
      className: classes || undefined,
    } as Edge;
  }), [edges, exits, badEdges, runNodes, running]);
}

/** With a run shown, one switch says what a click on a step does: open its settings, or its span in the run. */
function ModeToggle() {
  const runShown = useRun((s) => s.runId !== null);
  const mode = useEditorUi((s) => s.mode);
  if (!runShown) return null;
  const set = (m: "edit" | "inspect") => useEditorUi.getState().set(m === "edit" ? { mode: m, tab: "edit" } : { mode: m });
  return (
    <div className="mode-toggle" role="radiogroup" aria-label="Canvas mode" data-testid="mode-toggle" data-mode={mode}>
      <button role="radio" aria-checked={mode === "edit"} className={mode === "edit" ? "active" : ""} onClick={() => set("edit")}
        title="A click on a step opens its settings" data-testid="mode-edit">✎ Edit</button>
      <button role="radio" aria-checked={mode === "inspect"} className={mode === "inspect" ? "active" : ""} onClick={() => set("inspect")}
        title="A click on a step shows what it did in this run" data-testid="mode-inspect">◎ Inspect run</button>
    </div>
  );
}

/** Drawing an edge: refused connections say why (a hint while dragging, a toast after). */
function useConnecting() {
  const isValidConnection: IsValidConnection = useCallback((c) => {
    const s = useGraph.getState();
    const check = checkConnection(
      s.nodes.map((n) => ({ id: n.id, type: n.data.kind, config: n.data.config })),
      s.edges.map((e) => ({ from: e.source, to: e.target, port: e.sourceHandle })),
      c.source, c.sourceHandle ?? null, c.target, s.catalogue,
    );
    useEditorUi.getState().setConnectHint(check.ok ? null : check.reason ?? null);
    return check.ok;
  }, []);

  const onConnect = useCallback((c: Connection) => {
    const reason = useGraph.getState().connect(c.source, c.sourceHandle ?? null, c.target);
    if (reason) toast.warning(reason);
    useEditorUi.getState().setConnectHint(null);
  }, []);

  const onConnectEnd = useCallback((_: MouseEvent | TouchEvent, state: FinalConnectionState) => {
    const ui = useEditorUi.getState();
    if (state.toNode && state.isValid === false && ui.connectHint) toast.warning(ui.connectHint);
    ui.setConnectHint(null);
  }, []);
  return { isValidConnection, onConnect, onConnectEnd };
}

/** Dropping a palette entry on the canvas adds that step where it lands. */
function useDropToAdd(defaultModel: string | undefined) {
  const flow = useReactFlow();
  const onDragOver = useCallback((e: DragEvent) => {
    if (e.dataTransfer.types.includes(DRAG_MIME)) {
      e.preventDefault();
      e.dataTransfer.dropEffect = "copy";
    }
  }, []);

  const onDrop = useCallback((e: DragEvent) => {
    const type = e.dataTransfer.getData(DRAG_MIME);
    if (!type) return;
    e.preventDefault();
    const p = flow.screenToFlowPosition({ x: e.clientX, y: e.clientY });
    useGraph.getState().addNode(type, { x: Math.round(p.x - 92), y: Math.round(p.y - 30) }, defaultModel);
  }, [flow, defaultModel]);
  return { onDragOver, onDrop };
}

export function Canvas({ defaultModel, onNodeClick }: Props) {
  const nodes = useGraph((s) => s.nodes);
  const catalogue = useGraph((s) => s.catalogue);
  const hint = useEditorUi((s) => s.connectHint);
  const shownEdges = useShownEdges();
  const { isValidConnection, onConnect, onConnectEnd } = useConnecting();
  const { onDragOver, onDrop } = useDropToAdd(defaultModel);

  const big = nodes.length > 150;
  return (
    <div className="canvas" onDragOver={onDragOver} onDrop={onDrop} data-testid="canvas">
      <ReactFlow<CanvasNode, CanvasEdge>
        nodes={nodes}
        edges={shownEdges as CanvasEdge[]}
        nodeTypes={nodeTypes as unknown as NodeTypes}
        edgeTypes={edgeTypes}
        onNodesChange={useGraph.getState().onNodesChange}
        onEdgesChange={useGraph.getState().onEdgesChange}
        onConnect={onConnect}
        onConnectEnd={onConnectEnd}
        isValidConnection={isValidConnection}
        onNodeClick={(_, n) => onNodeClick?.(n.id)}
        fitView
        fitViewOptions={{ padding: 0.2, maxZoom: 1.1 }}
        minZoom={0.05}
        maxZoom={2}
        deleteKeyCode={["Delete", "Backspace"]}
        multiSelectionKeyCode={["Meta", "Control", "Shift"]}
        onlyRenderVisibleElements={big}
        connectionRadius={28}
        proOptions={{ hideAttribution: true }}
        defaultEdgeOptions={{ type: "smoothstep" }}
      >
        <Background gap={20} size={1} />
        <MiniMap pannable zoomable style={{ width: 170, height: 110 }} nodeColor={(n) => patternInfo(catalogue[(n.data as CanvasNode["data"]).kind]?.pattern ?? "").color} />
        <Controls showInteractive={false} />
      </ReactFlow>
      <ModeToggle />
      {hint && <div className="connect-hint" data-testid="connect-hint">⛔ {hint}</div>}
    </div>
  );
}
