/** A subgraph: a saved flow pinned to a version (picked from a list, opened on its own canvas), or an inline flow that can be saved as one. */
import { useState } from "react";
import type { FieldProps } from "@rjsf/utils";
import { ApiError } from "../../api/client";
import { createGraph } from "../../api/endpoints";
import { parseGraphRef, pinnedRef, type GraphSpec, type Json, type JsonObject } from "../../graph-core";
import { navigate } from "../../router";
import { toast } from "../../ui/toasts";
import { GraphPicker } from "../GraphPicker";
import { testIdOf, type FormContext } from "./context";
import { allMessages, anyError } from "./errors";
import { JsonText } from "./JsonText";
import { ProblemLine } from "./templates";

function stepCount(spec: Json | undefined): number {
  const nodes = spec && typeof spec === "object" && !Array.isArray(spec) ? spec.nodes : undefined;
  return Array.isArray(nodes) ? nodes.length : 0;
}

/** Save an inline flow as a graph of its own; returns the pin that replaces it. */
async function saveInline(spec: JsonObject, nodeId: string): Promise<string> {
  const name = typeof spec.name === "string" && spec.name.trim() ? spec.name : `${nodeId} flow`;
  const graph = await createGraph({ ...(spec as unknown as GraphSpec), name }, `Saved from the inline subgraph of ${nodeId}`);
  return pinnedRef(graph.id, graph.latest_version?.number ?? 1);
}

function InlineFlow(props: FieldProps & { spec: JsonObject }) {
  const ctx = props.registry.formContext as FormContext;
  const [busy, setBusy] = useState(false);
  const testId = testIdOf(props.fieldPathId.$id);
  const convert = async () => {
    setBusy(true);
    try {
      const graph = await saveInline(props.spec, ctx.nodeId);
      ctx.onGraphsChanged();
      props.onChange({ graph }, props.fieldPathId.path);
      toast.info("Saved as a flow of its own; this step now runs it, pinned to that version.");
    } catch (e) {
      toast.error(`Not saved as a flow: ${e instanceof ApiError ? e.message : String(e)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="inline-flow">
      <p className="muted small">An inline flow{typeof props.spec.name === "string" ? ` “${props.spec.name}”` : ""} of {stepCount(props.spec)} steps, kept inside this step.</p>
      <button type="button" className="btn btn-small" disabled={busy} data-testid={`${testId}-convert`} onClick={convert}>
        Save as a flow of its own
      </button>
      <details>
        <summary className="small">Its definition (JSON)</summary>
        <JsonText value={props.spec} objectOnly testId={`${testId}.spec`} invalid={false}
          onChange={(v) => props.onChange(v === undefined ? {} : { spec: v }, props.fieldPathId.path)} />
      </details>
    </div>
  );
}

export function SubgraphRefField(props: FieldProps) {
  const value = (props.formData ?? {}) as JsonObject;
  const [open, setOpen] = useState(false);
  const testId = testIdOf(props.fieldPathId.$id);
  // In a model step (a parallel branch, a vote) a subgraph is the rare choice: offered, not laid out.
  if (!props.required && !Object.keys(value).length && !open && !allMessages(props.errorSchema).length) {
    return <button type="button" className="link template-mode" data-testid={`${testId}-offer`} onClick={() => setOpen(true)}>
      Run a saved flow here instead of a model call…</button>;
  }
  return <SubgraphChoice {...props} />;
}

function SubgraphChoice(props: FieldProps) {
  const ctx = props.registry.formContext as FormContext;
  const value = (props.formData ?? {}) as JsonObject;
  const testId = testIdOf(props.fieldPathId.$id);
  const ref = parseGraphRef(value.graph);
  const below = allMessages(props.errorSchema).slice((props.errorSchema?.__errors as string[] | undefined)?.length ?? 0);
  return (
    <div className="subgraph-ref">
      {value.spec && typeof value.spec === "object" && !Array.isArray(value.spec) ? (
        <InlineFlow {...props} spec={value.spec} />
      ) : (
        <div className="row">
          <GraphPicker value={typeof value.graph === "string" ? value.graph : undefined} graphs={ctx.graphs} self={ctx.graphId}
            workspace={ctx.workspace} invalid={anyError(below)} testId={`${testId}.graph`}
            onChange={(g) => props.onChange(g ? { graph: g } : {}, props.fieldPathId.path)} />
          {ref && "graphId" in ref && (
            <button type="button" className="btn btn-small" data-testid={`${testId}-open`} title="Open this flow on its own canvas"
              onClick={() => navigate(`/graphs/${ref.graphId}`)}>Open</button>
          )}
        </div>
      )}
      {below.map((m, i) => <ProblemLine key={i} text={m} />)}
    </div>
  );
}
