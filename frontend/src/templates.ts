/** The example graphs in graphs/*.json, bundled at build time as "start from a template". */
import type { GraphSpec } from "./graph-core";

const files = import.meta.glob("../../graphs/*.json", { eager: true, import: "default" }) as Record<string, GraphSpec>;

export interface Template {
  file: string;
  spec: GraphSpec;
  types: string[];
}

export const TEMPLATES: Template[] = Object.entries(files)
  .map(([path, spec]) => ({
    file: path.split("/").pop()!.replace(/\.json$/, ""),
    spec,
    types: [...new Set((spec.nodes ?? []).map((n) => n.type))].filter((t) => t !== "input" && t !== "output"),
  }))
  .sort((a, b) => a.file.localeCompare(b.file));

export function blankSpec(name: string): GraphSpec {
  return {
    schema: "patchbay.graph/v1",
    name,
    inputs: { type: "object", properties: { text: { type: "string", title: "Text" } }, required: ["text"] },
    nodes: [
      { id: "input", type: "input", position: [0, 100] },
      { id: "output", type: "output", position: [520, 100], config: { value: "{{ input.text }}" } },
    ],
    edges: [],
  };
}
