/** A catalogue like GET /api/node-types/ serves (plus a router with computed ports), for tests. */
import { catalogueFrom, type NodeTypeInfo } from "./types";

const types: NodeTypeInfo[] = [
  { type: "input", title: "Input", pattern: "io", description: "Where the run's input enters.", out_ports: ["out"],
    config_schema: { type: "object", properties: {}, additionalProperties: false } },
  { type: "output", title: "Output", pattern: "io", description: "What the graph returns.", out_ports: [],
    config_schema: { type: "object", properties: { value: { title: "Value" } }, required: ["value"] } },
  { type: "llm", title: "LLM step", pattern: "chaining", description: "Ask a model to do one step.", out_ports: ["out"],
    config_schema: { type: "object", required: ["model"], properties: {
      model: { type: "string", title: "Model" }, prompt: { type: "string", title: "Prompt", format: "template" },
      params: { type: "object", title: "Model parameters", properties: { temperature: { type: "number" } } } } } },
  { type: "gate", title: "Gate", pattern: "chaining", description: "Check a result.", out_ports: ["pass", "fail"],
    config_schema: { type: "object", required: ["check"], properties: { check: { type: "object", title: "Check",
      required: ["kind", "value"], properties: { kind: { enum: ["json_schema", "regex", "compare"] }, value: { title: "Value" },
        pattern: { type: "string", title: "Pattern the value must contain (regex)" } } } } } },
  { type: "transform", title: "Transform", pattern: "data", description: "Reshape data.", out_ports: ["out"],
    config_schema: { type: "object", required: ["value"], properties: { value: { title: "Value" } } } },
  { type: "router", title: "Router", pattern: "routing", description: "Send each input down one route.", out_ports: ["default"],
    ports_from_config: "routes[].label", config_schema: { type: "object", properties: { routes: { type: "array" } } } },
];

export const catalogue = catalogueFrom(types);
