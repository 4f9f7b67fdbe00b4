import { Handle, Position, useUpdateNodeInternals, type NodeProps } from "@xyflow/react";
import { memo, useEffect } from "react";
import { configSummary, refLabel, type CanvasNode, type GraphChoice, type GraphSpec, type JsonObject } from "../graph-core";
import { saveDraft } from "../files";
import { useGraphChoices } from "../api/hooks";
import { duration, money, STATUS_WORDS, tokens } from "../format";
import { nodePorts, useGraph } from "../stores/graphStore";
import { budgetReason } from "../live/budgetWords";
import type { NodeRun } from "../live/runState";
import { useRun } from "../stores/runStore";
import { patternInfo } from "./patterns";

/** The flow an inline subgraph step carries in its config (not a saved one), if it does. */
function inlineFlow(kind: string, config: JsonObject | undefined): GraphSpec | null {
  const spec = (config?.subgraph as JsonObject | undefined)?.spec as GraphSpec | undefined;
  return kind === "subgraph" && spec && typeof spec === "object" && Array.isArray(spec.nodes) ? spec : null;
}

/** Open an inline subgraph on a canvas of its own: a new tab, as a new flow that can be saved. */
function openInline(spec: GraphSpec): void {
  saveDraft("new", { spec, baseVersion: null, savedAt: Date.now() });
  window.open("/graphs/new", "_blank", "noopener");
}

function summary(kind: string, config: JsonObject | undefined, graphs: GraphChoice[]): string {
  if (!config) return "";
  const sub = config.subgraph as JsonObject | undefined;
  if (kind === "subgraph" && typeof sub?.graph === "string") return `runs ${refLabel(sub.graph, graphs)}`;
  const inline = inlineFlow(kind, config);
  if (inline) return `runs its own flow “${inline.name}”: ${inline.nodes.length} steps`;
  const words = configSummary(kind, config);
  if (words !== null) return words;
  const pick = (v: unknown) => (typeof v === "string" ? v : v === undefined ? "" : JSON.stringify(v));
  if (kind === "llm") {
    const prompt = pick(config.prompt_ref ? `saved prompt ${config.prompt_ref}` : config.prompt);
    return prompt.split("\n").find((l) => l.trim()) ?? "";
  }
  if (kind === "gate") {
    const check = (config.check ?? {}) as JsonObject;
    return check.kind ? `check: ${check.kind}${check.op ? ` ${check.op}` : ""}${check.pattern ? ` /${check.pattern}/` : ""}` : "";
  }
  // Pattern steps nest their prompts (planner, generator, ...): show the first prompt found, else the first value.
  const prompt = findPrompt(config, 0);
  if (prompt) return prompt.split("\n").find((l) => l.trim()) ?? "";
  for (const v of Object.values(config)) {
    const s = pick(v);
    if (s) return s;
  }
  return "";
}

function findPrompt(value: unknown, depth: number): string | null {
  if (!value || typeof value !== "object" || depth > 2) return null;
  const obj = value as Record<string, unknown>;
  if (typeof obj.prompt === "string" && obj.prompt.trim()) return obj.prompt;
  for (const v of Object.values(obj)) {
    const found = findPrompt(v, depth + 1);
    if (found) return found;
  }
  return null;
}

const NO_GRAPHS: GraphChoice[] = [];

/**
 * The card's run line: time, tokens and cost once the step is done, why it was skipped, or a placeholder. Always
 * one line while a run is shown, so a card keeps its size from queued to done (a card that changes size is
 * re-measured and its edges redrawn: hundreds of times in a big run).
 */
function RunLine({ id, run }: { id: string; run: NodeRun }) {
  const done = run.status === "succeeded" || run.status === "cached" || run.status === "failed";
  if (!done) {
    const words = run.status === "skipped" ? run.reason ?? "skipped" : run.status === "running" ? "running…"
      : run.status === "waiting" ? "waiting for a person's decision" : "waiting";
    return <div className="node-badges muted" title={words}><span className="node-badges-text">{words}</span></div>;
  }
  return (
    <div className="node-badges" data-testid={`badge-${id}`}>
      <span title="Time taken">{duration(run.latencyMs)}</span>
      {(run.tokensIn || run.tokensOut) ? <span title="Tokens in + out">{tokens((run.tokensIn ?? 0) + (run.tokensOut ?? 0))}</span> : null}
      <span title="Cost" data-testid={`cost-${id}`}>{money(run.costUsd ?? 0)}</span>
    </div>
  );
}
const EXIT_ROW_PX = 20; // an exit label is 16 px tall

/** One step on the canvas. Reads only its own catalogue entry, problems and run state. */
export const NodeCard = memo(function NodeCard({ id, data, selected }: NodeProps<CanvasNode>) {
  const info = useGraph((s) => s.catalogue[data.kind]);
  const problems = useGraph((s) => s.problemsByNode[id]);
  const run = useRun((s) => s.nodes[id]);
  const ports = nodePorts({ id, data } as CanvasNode, useGraph.getState().catalogue);
  // A router's exits follow its routes: tell the canvas when the handles change.
  const updateNodeInternals = useUpdateNodeInternals();
  const portKey = ports.join("\u0000");
  useEffect(() => updateNodeInternals(id), [id, portKey, updateNodeInternals]);
  const color = patternInfo(info?.pattern ?? "").color;
  const model = data.kind === "llm" && typeof data.config?.model === "string" ? data.config.model : null;
  const graphs = useGraphChoices().data ?? NO_GRAPHS;  // one cached request per page: subgraphs show current names
  const text = summary(data.kind, data.config, graphs);
  const inline = inlineFlow(data.kind, data.config);
  const status = run?.status;
  const hasInput = data.kind !== "input";
  return (
    <div
      className={`node ${selected ? "selected" : ""} ${problems?.length ? "has-problem" : ""} ${status ? `run-${status}` : ""}`}
      // Room for every exit's label: handles are spread over the card's height.
      style={{ ["--accent" as string]: color, minHeight: ports.length > 2 ? (ports.length + 1) * EXIT_ROW_PX : undefined }}
      data-testid={`node-${id}`}
      data-status={status ?? ""}
    >
      {hasInput && <Handle type="target" position={Position.Left} className="handle-in" data-testid={`in-${id}`} />}
      <div className="node-head">
        <span className="node-type">{info?.title ?? data.kind}</span>
        {status && <span className={`pill pill-${status}`} data-testid={`status-${id}`}>{STATUS_WORDS[status] ?? status}</span>}
      </div>
      <div className="node-title">{data.label ?? id}</div>
      {data.label && <div className="node-id">{id}</div>}
      {(model || text) && (
        <div className="node-summary">
          {model && <span className="chip">{model}</span>} {text}
        </div>
      )}
      {inline && (
        <button className="btn btn-small nodrag" data-testid={`open-subgraph-${id}`} title="Open this flow on a canvas of its own (a new tab)"
          onClick={(e) => { e.stopPropagation(); openInline(inline); }}>Open flow ↗</button>
      )}
      {!info && <div className="node-warning">Unknown step type “{data.kind}”</div>}
      {problems?.length ? (
        <div className="node-problem" data-testid={`problem-${id}`} title={problems.map((p) => p.text).join("\n")}>
          ⚠ {problems[0].text}{problems.length > 1 ? ` (+${problems.length - 1} more)` : ""}
        </div>
      ) : null}
      {run && status === "running" && run.text && <div className="node-stream" data-testid={`stream-${id}`}>{run.text.slice(-160)}</div>}
      {run && <RunLine id={id} run={run} />}
      {run && status === "failed" && run.error && <div className="node-error" title={run.error}>{budgetReason(run.error) ?? run.error}</div>}
      {ports.map((port, i) => (
        <Handle
          key={port}
          id={port}
          type="source"
          position={Position.Right}
          className="handle-out"
          style={{ top: `${((i + 1) / (ports.length + 1)) * 100}%` }}
          data-testid={`out-${id}-${port}`}
        >
          {ports.length > 1 && <span className="port-label">{port}</span>}
        </Handle>
      ))}
    </div>
  );
});

export const nodeTypes = { patchbay: NodeCard };
