import { useEffect, useMemo, useState } from "react";
import { useGraphChoices } from "../api/hooks";
import type { ModelAlias } from "../api/types";
import { templateSuggestions, type CanvasNode, type JsonObject } from "../graph-core";
import { useGraph } from "../stores/graphStore";
import { toast } from "../ui/toasts";
import { patternInfo } from "./patterns";
import { ObjectFields } from "./SchemaForm";

/** The side panel for the selected step: its name, and a form generated from its type's schema. */
export function Inspector({ node, models }: { node: CanvasNode; models: ModelAlias[] }) {
  const info = useGraph((s) => s.catalogue[node.data.kind]);
  const problems = useGraph((s) => s.problemsByNode[node.id]) ?? [];
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

  const renameTo = (value: string) => {
    const error = useGraph.getState().renameNode(node.id, value.trim());
    if (error) {
      toast.warning(error);
      setName(node.id);
    }
  };
  const color = patternInfo(info?.pattern ?? "").color;
  const nodeLevel = problems.filter((p) => p.field.startsWith("@") || (!p.field && !/ is required$/.test(p.message)));

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
      {nodeLevel.map((p, i) => <div key={i} className="field-problem">{p.text}</div>)}
      {info && Object.keys(info.config_schema.properties ?? {}).length > 0 ? (
        <ObjectFields
          schema={info.config_schema}
          value={(node.data.config as JsonObject) ?? {}}
          path=""
          onChange={(config) => useGraph.getState().updateConfig(node.id, config)}
          ctx={{ models, suggestions, problems, testPrefix: `cfg-${node.id}`, graphs, graphId,
            workspace: graphs?.find((g) => g.id === graphId)?.workspace ?? null }}
        />
      ) : (
        <p className="muted small">This step has no settings.</p>
      )}
    </div>
  );
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
