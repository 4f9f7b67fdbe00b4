import type { Catalogue, JsonObject, SpecNode } from "./types";

/**
 * The out-ports of a node. Static ports come from the catalogue; some types compute
 * them from their config (a router's `routes[].label`, plus its static ports such as
 * `default`). An edge with no port uses the first one, as the engine does.
 */
export function outPorts(node: Pick<SpecNode, "type" | "config">, catalogue: Catalogue): string[] {
  const info = catalogue[node.type];
  const staticPorts = info ? info.out_ports : ["out"];
  if (info && staticPorts.length === 0) return [];
  const labels = configuredLabels(node.config);
  const ports: string[] = [];
  for (const p of [...labels, ...staticPorts]) if (!ports.includes(p)) ports.push(p);
  return ports;
}

function configuredLabels(config: JsonObject | undefined): string[] {
  const routes = config?.routes;
  if (!Array.isArray(routes)) return [];
  const labels: string[] = [];
  for (const route of routes) {
    if (route && typeof route === "object" && !Array.isArray(route)) {
      const label = (route as JsonObject).label;
      if (typeof label === "string" && label.trim()) labels.push(label);
    }
  }
  return labels;
}

export function defaultPort(node: Pick<SpecNode, "type" | "config">, catalogue: Catalogue): string | null {
  const ports = outPorts(node, catalogue);
  return ports.length ? ports[0] : null;
}

/** Whether anything can feed this node (the input node takes no edges). */
export function acceptsInput(type: string): boolean {
  return type !== "input";
}
