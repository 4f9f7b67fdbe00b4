import type { Catalogue, JsonObject, SpecNode } from "./types";

/**
 * The out-ports of a node, by the engine's one rule (backend/engine/nodes/base.py `derive_ports`),
 * read from the catalogue: the labels the config names at `ports_from_config` ("<list>[].<field>",
 * e.g. a router's "routes[].label"), then the type's static `out_ports`, each once. An edge with no
 * port uses the first one, as the engine does. portCases.json holds the cases both sides run.
 */
export function outPorts(node: Pick<SpecNode, "type" | "config">, catalogue: Catalogue): string[] {
  const info = catalogue[node.type];
  const staticPorts = info ? info.out_ports : ["out"];
  const labels = info?.ports_from_config ? configuredLabels(info.ports_from_config, node.config) : [];
  return [...new Set([...labels, ...staticPorts])];
}

function configuredLabels(path: string, config: JsonObject | undefined): string[] {
  const [listKey, field] = path.split("[].");
  const items = config?.[listKey];
  if (!Array.isArray(items)) return [];
  const labels: string[] = [];
  for (const item of items) {
    if (item && typeof item === "object" && !Array.isArray(item)) {
      const label = (item as JsonObject)[field];
      if (typeof label === "string" && label.trim()) labels.push(label);
    }
  }
  return labels;
}

export function defaultPort(node: Pick<SpecNode, "type" | "config">, catalogue: Catalogue): string | null {
  const ports = outPorts(node, catalogue);
  return ports.length ? ports[0] : null;
}
