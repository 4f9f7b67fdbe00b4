/** What every widget of a step's form may need besides its own value; handed down as rjsf's formContext. */
import type { ModelAlias } from "../../api/types";
import type { GraphChoice, Suggestion } from "../../graph-core";

export interface FormContext {
  models: ModelAlias[];
  /** Saved graphs a subgraph step may call, and the graph being edited (it cannot call itself). */
  graphs: GraphChoice[];
  graphId: number | null;
  workspace: number | null;
  /** What templates in this step may use: `{{ input.x }}`, `{{ nodes.<upstream>.output }}`. */
  suggestions: Suggestion[];
  /** The step being edited. */
  nodeId: string;
  /** Steps upstream whose results the output may join ("the result of whichever of these ran"), nearest first. */
  joinable: string[];
  /** Saved graphs changed (an inline subgraph was saved as a flow): load the list again. */
  onGraphsChanged: () => void;
}

/**
 * rjsf ids are the form's prefix (`cfg-<step>`) and the field's path joined by dots; the test id
 * puts a dash after the step: `cfg-classify.routes.1.label` → `cfg-classify-routes.1.label`.
 */
export function testIdOf(id: string): string {
  const dot = id.indexOf(".");
  return dot < 0 ? id : `${id.slice(0, dot)}-${id.slice(dot + 1)}`;
}
