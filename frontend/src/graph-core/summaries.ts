/** One line in words for a step's card, from its config: "3 routes: billing, technical, default". */
import { joinedSteps } from "./templates";
import type { Json, JsonObject } from "./types";

/** Words for a config, or null when its first value says it better. */
type Summarise = (config: JsonObject) => string | null;

/** A join written by the output form reads better as the steps it takes from. */
function joinSummary(config: JsonObject): string | null {
  const steps = typeof config.value === "string" ? joinedSteps(config.value) : null;
  return steps && steps.length > 1 ? `whichever ran: ${steps.join(", ")}` : null;
}

function list(value: Json | undefined): JsonObject[] {
  return Array.isArray(value) ? value.filter((v): v is JsonObject => !!v && typeof v === "object" && !Array.isArray(v)) : [];
}

function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

function named(items: JsonObject[], key: string): string[] {
  return items.map((item) => item[key]).filter((v): v is string => typeof v === "string" && v.trim() !== "");
}

const SUMMARIES: Record<string, Summarise> = {
  router(config) {
    // The default route is always there, so it is counted and named last.
    const labels = [...named(list(config.routes), "label").filter((l) => l !== "default"), "default"];
    const how = config.mode === "rules" ? " (by rules)" : "";
    return `${plural(labels.length, "route")}${how}: ${labels.join(", ")}`;
  },
  vote(config) {
    const samples = typeof config.samples === "number" ? config.samples : 5;
    const aggregate = typeof config.aggregate === "string" ? config.aggregate : "majority";
    const rule = aggregate === "threshold" && typeof config.k === "number" ? `${config.k} needed` : aggregate;
    return `${plural(samples, "sample")}, ${rule}`;
  },
  parallel(config) {
    const branches = list(config.branches);
    const names = named(branches, "name");
    return `${plural(branches.length, "branch", "branches")}${names.length ? `: ${names.join(", ")}` : ""}`;
  },
  orchestrator(config) {
    const most = typeof config.max_workers === "number" ? config.max_workers : 5;
    return `plan, up to ${plural(most, "worker")}, then combine`;
  },
  output: joinSummary,
  transform: joinSummary,
  subgraph(config) {
    const sub = config.subgraph;
    const spec = sub && typeof sub === "object" && !Array.isArray(sub) ? sub.spec : undefined;
    if (!spec || typeof spec !== "object" || Array.isArray(spec)) return null;
    const name = typeof spec.name === "string" ? ` “${spec.name}”` : "";
    return `inline flow${name}: ${plural(list(spec.nodes).length, "step")}`;
  },
  evaluator_optimizer(config) {
    const rounds = typeof config.max_iterations === "number" ? config.max_iterations : 3;
    return `write and judge, up to ${plural(rounds, "round")}`;
  },
};

/** The card's summary for step types whose config reads better in words than as its first value; null otherwise. */
export function configSummary(kind: string, config: JsonObject | undefined): string | null {
  const summarise = SUMMARIES[kind];
  return summarise ? summarise(config ?? {}) : null;
}
