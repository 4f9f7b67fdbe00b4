import {
  Background, Controls, MiniMap, ReactFlow, useReactFlow, type Connection, type Edge, type FinalConnectionState,
  type IsValidConnection, type NodeTypes,
} from "@xyflow/react";
import { useCallback, useMemo, useRef, type DragEvent } from "react";
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
/** Above this many steps (or edges) the canvas draws only what is in view, and running edges do not animate. */
const BIG_FLOW = 150;

interface Props {
  defaultModel?: string;
  onNodeClick?: (id: string) => void;
}

/** The steps a run has running or skipped, as one string: it changes when a step's state does, not on every token. */
function runningAndSkipped(nodes: Record<string, { status: string }>): string {
  const ids: string[] = [];
  for (const [id, n] of Object.entries(nodes)) if (n.status === "running" || n.status === "skipped") ids.push(`${n.status[0]}${id}`);
  return ids.join("\u0000");
}

/** Which labelled exit edges stack where; recomputed when exits change, not when a step moves or is selected. */
function useExitStacks(edges: CanvasEdge[]): Record<string, number> {
  const portKey = useGraph((s) => s.nodes.map((n) => `${n.id}\u0001${nodePorts(n, s.catalogue).join("\u0001")}`).join("\u0000"));
  return useMemo(() => {
    const ports = new Map(portKey.split("\u0000").map((row) => { const [id, ...p] = row.split("\u0001"); return [id, p]; }));
    const portsOf = (id: string) => ports.get(id) ?? [];
    return labelStacks(edges.filter((e) => e.sourceHandle && portsOf(e.source).length > 1), portsOf);
  }, [edges, portKey]);
}

/**
 * Edges as drawn: a label on exits of multi-exit steps, red when a problem names them, moving while the next step
 * runs. An edge whose look did not change keeps its object, so a streaming run redraws only the edges it changes.
 */
function useShownEdges(): Edge[] {
  const edges = useGraph((s) => s.edges);
  const problems = useGraph((s) => s.problems);
  const runKey = useRun((s) => runningAndSkipped(s.nodes));
  const running = useRun((s) => s.status === "running" || s.status === "queued");
  const badEdges = useMemo(() => new Set(problems.filter((p) => p.edgeIndex !== null).map((p) => p.edgeIndex!)), [problems]);
  const exits = useExitStacks(edges);
  const shown = useRef(new Map<string, { key: string; source: CanvasEdge; edge: Edge }>());
  return useMemo(() => {
    const states = new Set(runKey.split("\u0000"));
    const big = edges.length > BIG_FLOW;
    const next = new Map<string, { key: string; source: CanvasEdge; edge: Edge }>();
    const out = edges.map((e, i): Edge => {
      const skipped = states.has(`s${e.target}`);
      // Moving dashes repaint the whole edge layer every frame; in a big flow the running steps' pills say enough.
      const animated = running && !big && states.has(`r${e.target}`);
      const classes = [badEdges.has(i) ? "edge-problem" : "", skipped ? "edge-skipped" : ""].join(" ").trim();
      const stack = exits[e.id];
      const key = `${classes}|${animated}|${stack}`;
      const old = shown.current.get(e.id);
      const edge = old && old.source === e && old.key === key ? old.edge : {
        ...e,
        ...(stack !== undefined ? { type: "exit", data: { ...e.data, exitLabel: e.sourceHandle, stack } } : {}),
        animated,
        className: classes || undefined,
      } as Edge;
      next.set(e.id, { key, source: e, edge });
      return edge;
    });
    shown.current = next;
    return out;
  }, [edges, exits, badEdges, runKey, running]);
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

  const big = nodes.length > BIG_FLOW;
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
