/**
 * Client-side checks that mirror the server's structural validation
 * (backend/engine/validation.py), with the same paths, so the canvas can refuse
 * an edge as it is drawn and flag problems before the server is asked.
 * Template and model checks stay on the server (POST /api/graphs/validate/).
 */
import { outPorts } from "./ports";
import type { Catalogue, GraphSpec, JsonObject, JsonSchema, Problem, SpecEdge, SpecNode } from "./types";

export const NODE_ID = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export interface ConnectionCheck {
  ok: boolean;
  /** Why the edge is refused, in plain words. */
  reason?: string;
  /** The port the edge will use. */
  port?: string | null;
}

interface NodeLike {
  id: string;
  type: string;
  config?: JsonObject;
}
interface EdgeLike {
  from: string;
  to: string;
  port?: string | null;
}

function describe(node: NodeLike, catalogue: Catalogue): string {
  const title = catalogue[node.type]?.title ?? node.type;
  return `“${node.id}” (${title})`;
}

/** Is there a path from `start` to `goal` along the edges? Returns it, or null. */
export function findPath(edges: EdgeLike[], start: string, goal: string): string[] | null {
  const next = new Map<string, string[]>();
  for (const e of edges) {
    const list = next.get(e.from) ?? [];
    list.push(e.to);
    next.set(e.from, list);
  }
  const previous = new Map<string, string>();
  const queue = [start];
  const seen = new Set([start]);
  while (queue.length) {
    const current = queue.shift()!;
    if (current === goal) {
      const path = [goal];
      let at = goal;
      while (at !== start) {
        at = previous.get(at)!;
        path.unshift(at);
      }
      return path;
    }
    for (const n of next.get(current) ?? []) {
      if (!seen.has(n)) {
        seen.add(n);
        previous.set(n, current);
        queue.push(n);
      }
    }
  }
  return null;
}

/** May an edge be drawn from `sourceId` (port) to `targetId`? The reason when not. */
export function checkConnection(
  nodes: NodeLike[],
  edges: EdgeLike[],
  sourceId: string,
  port: string | null | undefined,
  targetId: string,
  catalogue: Catalogue,
): ConnectionCheck {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const source = byId.get(sourceId);
  const target = byId.get(targetId);
  if (!source || !target) return { ok: false, reason: "Both ends of a connection must be steps on the canvas." };
  if (sourceId === targetId) return { ok: false, reason: "A step cannot feed itself." };
  const ports = outPorts(source, catalogue);
  if (ports.length === 0) {
    return { ok: false, reason: `${describe(source, catalogue)} is where the flow ends: nothing can follow it.` };
  }
  const usePort = port ?? ports[0];
  if (!ports.includes(usePort)) {
    return { ok: false, reason: `${describe(source, catalogue)} has no exit called “${usePort}” (it has: ${ports.join(", ")}).` };
  }
  if (target.type === "input") {
    return { ok: false, reason: `${describe(target, catalogue)} is where the flow starts: nothing can feed it.` };
  }
  const samePort = (e: EdgeLike) => (e.port ?? ports[0]) === usePort;
  if (edges.some((e) => e.from === sourceId && e.to === targetId && samePort(e))) {
    return { ok: false, reason: `${sourceId} is already connected to ${targetId}.` };
  }
  const back = findPath(edges, targetId, sourceId);
  if (back) {
    return {
      ok: false,
      reason: `This would make a loop: ${[...back, targetId].join(" → ")}. Flows run forward only; ` +
        "for a bounded retry loop use an Evaluator-optimizer step.",
    };
  }
  return { ok: true, port: usePort };
}

/** Structural problems of a whole document, with the server's paths. */
export function structuralProblems(spec: GraphSpec, catalogue: Catalogue): Problem[] {
  const problems: Problem[] = [];
  if (typeof spec.name !== "string" || !spec.name.trim()) problems.push({ path: "name", message: "a graph needs a name" });
  const nodes: SpecNode[] = Array.isArray(spec.nodes) ? spec.nodes : [];
  if (nodes.length === 0) {
    problems.push({ path: "nodes", message: "a graph needs a list of nodes (at least an input and an output)" });
    return problems;
  }
  const checked = nodeProblems(nodes, catalogue);
  problems.push(...checked.problems);
  problems.push(...edgeProblems(Array.isArray(spec.edges) ? spec.edges : [], checked.seen, checked.good, catalogue));
  return problems;
}

/** Ids, types, required config, one input at most and exactly one output; the nodes edges may then refer to. */
function nodeProblems(nodes: SpecNode[], catalogue: Catalogue): { problems: Problem[]; seen: Set<string>; good: Map<string, SpecNode> } {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  const good = new Map<string, SpecNode>();
  let inputs = 0;
  let outputs = 0;
  nodes.forEach((node, i) => {
    const base = `nodes[${i}]`;
    let ok = true;
    if (typeof node.id !== "string" || !NODE_ID.test(node.id)) {
      problems.push({ path: `${base}.id`, message: "an id is letters, digits and _ (not starting with a digit), at most 64 characters" });
      ok = false;
    } else if (seen.has(node.id)) {
      problems.push({ path: `${base}.id`, message: `another node already has the id '${node.id}'`, node_id: node.id });
      ok = false;
    } else {
      seen.add(node.id);
    }
    const info = catalogue[node.type];
    if (!info) {
      problems.push({ path: `${base}.type`, message: `unknown node type '${node.type}'`, node_id: node.id });
      ok = false;
    } else {
      if (node.type === "input") inputs += 1;
      if (node.type === "output") outputs += 1;
      for (const p of requiredProblems(node.config ?? {}, info.config_schema, `${base}.config`)) {
        problems.push({ ...p, node_id: node.id });
      }
    }
    if (ok) good.set(node.id, node);
  });
  if (inputs > 1) problems.push({ path: "nodes", message: "a graph has at most one input node" });
  if (outputs !== 1) problems.push({ path: "nodes", message: "a graph needs exactly one output node" });
  return { problems, seen, good };
}

/** One edge's own problems: ends that exist, no self-feed, a port the source has, nothing into the input. */
function edgeShapeProblems(edge: SpecEdge, base: string, seen: Set<string>, good: Map<string, SpecNode>, catalogue: Catalogue): Problem[] {
  const missing = (["from", "to"] as const).filter((end) => !seen.has(edge[end]));
  if (missing.length) return missing.map((end) => ({ path: `${base}.${end}`, message: `points at node '${edge[end]}', which does not exist` }));
  if (edge.from === edge.to) return [{ path: base, message: `node '${edge.from}' cannot feed itself`, node_id: edge.from }];
  const problems: Problem[] = [];
  const source = good.get(edge.from);
  if (source) {
    const ports = outPorts(source, catalogue);
    if (ports.length === 0) {
      problems.push({ path: base, message: `'${edge.from}' is an ${source.type} node: nothing can follow it`, node_id: edge.from });
    } else if (edge.port !== undefined && !ports.includes(edge.port)) {
      problems.push({ path: `${base}.port`, message: `'${edge.from}' has no port '${edge.port}' (ports: ${ports.join(", ")})`, node_id: edge.from });
    }
  }
  if (good.get(edge.to)?.type === "input") {
    problems.push({ path: base, message: `'${edge.to}' is the input node: nothing can feed it`, node_id: edge.to });
  }
  return problems;
}

/** Every edge's problems, then duplicates and loops among the edges that are otherwise sound. */
function edgeProblems(edges: SpecEdge[], seen: Set<string>, good: Map<string, SpecNode>, catalogue: Catalogue): Problem[] {
  const problems: Problem[] = [];
  const keys = new Set<string>();
  const goodEdges: EdgeLike[] = [];
  edges.forEach((edge, i) => {
    const base = `edges[${i}]`;
    const own = edgeShapeProblems(edge, base, seen, good, catalogue);
    problems.push(...own);
    if (own.length && (!seen.has(edge.from) || !seen.has(edge.to) || edge.from === edge.to)) return;
    let ok = own.length === 0;
    const key = `${edge.from}\u0000${edge.to}\u0000${edge.port ?? ""}`;
    if (keys.has(key)) {
      problems.push({ path: base, message: `duplicate edge ${edge.from} → ${edge.to}` });
      ok = false;
    }
    keys.add(key);
    if (!ok) return;
    const loop = findPath(goodEdges, edge.to, edge.from);
    if (loop) {
      problems.push({ path: base, message: `this edge closes a loop: ${[...loop, edge.to].join(" → ")} (graphs must not loop; use evaluator_optimizer for bounded loops)` });
    } else {
      goodEdges.push(edge);
    }
  });
  return problems;
}

/** Required fields missing from a config, following nested objects (a schema's `required`). */
export function requiredProblems(config: JsonObject, schema: JsonSchema, base: string): Problem[] {
  const out: Problem[] = [];
  for (const name of schema.required ?? []) {
    if (config[name] === undefined || config[name] === null) out.push({ path: base, message: `'${name}' is required` });
  }
  for (const [name, sub] of Object.entries(schema.properties ?? {})) {
    const value = config[name];
    if (sub.type === "object" && value && typeof value === "object" && !Array.isArray(value) && sub.required) {
      out.push(...requiredProblems(value as JsonObject, sub, `${base}.${name}`));
    }
  }
  return out;
}
