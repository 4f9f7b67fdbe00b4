/** The run form's input: read from what was typed, checked against the flow's input schema, remembered per flow. */
import type { Json, JsonObject, JsonSchema } from "../graph-core";

export type RunInputRead = { input: Json; remember: boolean } | { error: string };

/** The flow's input fields, when its input schema names them. */
export function inputFields(inputs: JsonObject | undefined): Record<string, JsonSchema> | null {
  const props = (inputs as JsonSchema | undefined)?.properties;
  return props && typeof props === "object" ? props : null;
}

/** The example inputs the flow's input schema gives (inputs.examples), for "Use example". */
export function inputExamples(inputs: JsonObject | undefined): Json[] {
  const examples = inputs?.examples;
  return Array.isArray(examples) ? examples : [];
}

/**
 * The input a run starts with. With named fields: the values typed, every required one
 * filled in (remembered for next time). Without: the raw JSON typed.
 */
export function readRunInput(inputs: JsonObject | undefined, values: JsonObject, raw: string): RunInputRead {
  const props = inputFields(inputs);
  if (!props) {
    try {
      return { input: JSON.parse(raw) as Json, remember: false };
    } catch {
      return { error: "The input is not valid JSON." };
    }
  }
  const required = (inputs as JsonSchema).required ?? [];
  const missing = required.filter((k) => values[k] === undefined || values[k] === "");
  if (missing.length) return { error: `Fill in: ${missing.map((k) => props[k]?.title ?? k).join(", ")}.` };
  return { input: values, remember: true };
}

const INPUT_KEY = "patchbay:last-input:";

export function rememberRunInput(graphKey: string, input: Json): void {
  try {
    localStorage.setItem(INPUT_KEY + graphKey, JSON.stringify(input));
  } catch {
    /* storage full or disabled: the form just starts empty next time */
  }
}

export function lastRunInput(graphKey: string): JsonObject {
  try {
    return JSON.parse(localStorage.getItem(INPUT_KEY + graphKey) ?? "{}") as JsonObject;
  } catch {
    return {};
  }
}
