import { useEffect, useMemo, useState } from "react";
import { forgetGraphChoices, useGraphChoices } from "../api/hooks";
import type { ModelAlias } from "../api/types";
import { templateSuggestions, upstreamOf, type CanvasNode, type JsonObject } from "../graph-core";
import { useGraph } from "../stores/graphStore";
import { toast } from "../ui/toasts";
import { patternInfo } from "./patterns";
import { useWarnings } from "./session/warnings";
import type { FormContext } from "./forms/context";
import { ConfigForm } from "./SchemaForm";

/** The side panel for the selected step: its name, and a form generated from its type's schema. */
export function Inspector({ node, models }: { node: CanvasNode; models: ModelAlias[] }) {
  const info = useGraph((s) => s.catalogue[node.data.kind]);
  const errors = useGraph((s) => s.problemsByNode[node.id]);
  const warnings = useWarnings((s) => s.warnings);
  const problems = useMemo(() => [...(errors ?? []), ...warnings.filter((w) => w.nodeId === node.id)], [errors, warnings, node.id]);
  const edges = useGraph((s) => s.edges);
  const nodes = useGraph((s) => s.nodes);
  const meta = useGraph((s) => s.meta);
  const graphId = useGraph((s) => s.graphId);
  const graphs = useGraphChoices().data;
  const [name, setName] = useState(node.id);
  useEffect(() => setName(node.id), [node.id]);

  const suggestions = useMemo(
    () => templateSuggestions({
      inputs: meta.inputs, nodes: nodes.map((n) => ({ id: n.id, type: n.data.kind })),
      edges: edges.map((e) => ({ from: e.source, to: e.target })),
    }, node.id),
    [meta.inputs, nodes, edges, node.id],
  );

  const context: FormContext = useMemo(() => ({
    models, suggestions, graphs: graphs ?? [], graphId, nodeId: node.id,
    workspace: graphs?.find((g) => g.id === graphId)?.workspace ?? null,
    joinable: joinableSteps(node.id, nodes, edges),
    onGraphsChanged: forgetGraphChoices, // every picker and card loads the list again
  }), [models, suggestions, graphs, graphId, node.id, nodes, edges]);

  const renameTo = (value: string) => {
    const error = useGraph.getState().renameNode(node.id, value.trim());
    if (error) {
      toast.warning(error);
      setName(node.id);
    }
  };
  const color = patternInfo(info?.pattern ?? "").color;

  return (
    <div className="inspector" data-testid="inspector">
      <div className="inspector-head" style={{ borderColor: color }}>
        <div className="muted small" style={{ color }}>{patternInfo(info?.pattern ?? "").title}</div>
        <h2>{info?.title ?? node.data.kind}</h2>
        <p className="muted small">{info?.description ?? "This step type is not known to the server."}</p>
      </div>
      <label className="field">
        <span className="field-label">Step name</span>
        <input className="nodrag mono" value={name} data-testid="node-name"
          onChange={(e) => setName(e.target.value)}
          onBlur={() => renameTo(name)}
          onKeyDown={(e) => e.key === "Enter" && (e.target as HTMLInputElement).blur()} />
        <span className="muted small">Other steps use its result as <code>{`{{ nodes.${node.id}.output }}`}</code>; renaming updates them.</span>
      </label>
      <label className="field">
        <span className="field-label">Label (optional)</span>
        <input className="nodrag" value={node.data.label ?? ""} placeholder="A friendly title for the canvas"
          onChange={(e) => useGraph.getState().updateNodeField(node.id, "label", e.target.value)} />
      </label>
      {info && Object.keys(info.config_schema.properties ?? {}).length > 0 ? (
        <ConfigForm key={node.id} schema={info.config_schema} value={(node.data.config as JsonObject) ?? {}} problems={problems}
          context={context} onChange={(config) => useGraph.getState().updateConfig(node.id, config)} />
      ) : (
        <>
          {problems.map((p, i) => <div key={i} className={p.severity === "warning" ? "field-warning" : "field-problem"}>{p.text}</div>)}
          <p className="muted small">This step has no settings.</p>
        </>
      )}
    </div>
  );
}

/** Steps upstream an output may join, the ones feeding it directly first (the input is not a result). */
function joinableSteps(nodeId: string, nodes: CanvasNode[], edges: { source: string; target: string }[]): string[] {
  const kinds = new Map(nodes.map((n) => [n.id, n.data.kind]));
  const links = edges.map((e) => ({ from: e.source, to: e.target }));
  const direct = links.filter((e) => e.to === nodeId).map((e) => e.from);
  const all = [...new Set([...direct, ...upstreamOf(nodeId, links)])];
  return all.filter((id) => kinds.get(id) !== "input");
}

export function MultiSelection({ count }: { count: number }) {
  const s = useGraph.getState();
  return (
    <div className="inspector">
      <h2>{count} steps selected</h2>
      <p className="muted small">Drag any of them to move them together.</p>
      <div className="row">
        <button className="btn" onClick={() => toast.info(`Copied ${s.copySelection()} step(s).`)}>Copy</button>
        <button className="btn btn-danger-ghost" onClick={() => s.deleteSelected()}>Delete</button>
      </div>
    </div>
  );
}
