/** The graph document (patchbay.graph/v1) and the node-type catalogue, as the server speaks them. */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface SpecNode {
  id: string;
  type: string;
  position?: [number, number];
  config?: JsonObject;
  label?: string;
  [extra: string]: unknown;
}

export interface SpecEdge {
  from: string;
  to: string;
  port?: string;
  [extra: string]: unknown;
}

export interface GraphSpec {
  schema: string;
  name: string;
  description?: string;
  inputs?: JsonObject;
  budget?: { max_cost_usd?: number; max_seconds?: number; max_llm_calls?: number };
  nodes: SpecNode[];
  edges: SpecEdge[];
  [extra: string]: unknown;
}

export const SCHEMA_ID = "patchbay.graph/v1";

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  format?: string;
  default?: Json;
  enum?: Json[];
  const?: Json;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  maxLength?: number;
  maxItems?: number;
  minItems?: number;
  pattern?: string;
  allOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  if?: JsonSchema;
  then?: JsonSchema;
  [extra: string]: unknown;
}

/** One entry of GET /api/node-types/. */
export interface NodeTypeInfo {
  type: string;
  title: string;
  pattern: string;
  description: string;
  config_schema: JsonSchema;
  out_ports: string[];
  /** Ports the config names before the static ones: "<list>[].<field>" (see ports.ts). */
  ports_from_config?: string | null;
}

export type Catalogue = Record<string, NodeTypeInfo>;

export function catalogueFrom(list: NodeTypeInfo[]): Catalogue {
  return Object.fromEntries(list.map((t) => [t.type, t]));
}

/** A problem as the server reports it (and as the client-side checks report it). */
export interface Problem {
  path: string;
  message: string;
  node_id?: string | null;
  /** Absent for errors. A warning is shown but blocks neither a save nor a run. */
  severity?: "error" | "warning";
}
