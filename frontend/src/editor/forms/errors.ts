/**
 * Problems pinned to a step (graph-core/problems.ts) placed on the form: each beside the field it
 * names (`routes[1].label` → the label field of the second route), the rest above the form. Each
 * problem is shown exactly once.
 */
import type { ErrorSchema } from "@rjsf/utils";
import { fieldSchema, type JsonSchema, type PinnedProblem } from "../../graph-core";

/** `routes[1].label` → ["routes", "1", "label"]. */
export function fieldSegments(field: string): string[] {
  return field.split(/\.|\[(\d+)\]/).filter((s): s is string => !!s);
}

/** Does the form have a field at this path? (Inline graphs and JSON fields take every path below them.) */
function onForm(schema: JsonSchema, field: string): boolean {
  if (!field || field.startsWith("@")) return false;
  const parts = field.split(".");
  for (let i = parts.length; i > 0; i--) {
    const head = parts.slice(0, i).join(".");
    if (fieldSchema(schema, head) !== undefined) return true;
  }
  return false;
}

/** How a warning's text starts on the form, so the field shows it in the warning style, not as an error. */
export const WARNING_PREFIX = "Warning: ";

/** Do these messages (rjsf's rawErrors of a field) hold an error, not only warnings? */
export function anyError(messages: string[] | undefined): boolean {
  return (messages ?? []).some((m) => !String(m).startsWith(WARNING_PREFIX));
}

export interface PlacedProblems {
  /** For rjsf's `extraErrors`: messages at the path of their field. */
  errorSchema: ErrorSchema;
  /** Problems about the step as a whole (its name, an unknown setting): shown above the form. */
  general: PinnedProblem[];
}

/** Where each problem of a step goes: beside a field of the form, or above it. */
export function placeProblems(problems: PinnedProblem[], schema: JsonSchema): PlacedProblems {
  const errorSchema: ErrorSchema = {};
  const general: PinnedProblem[] = [];
  for (const p of problems) {
    if (!onForm(schema, p.field)) {
      general.push(p);
      continue;
    }
    let at = errorSchema as Record<string, unknown>;
    for (const part of fieldSegments(p.field)) at = (at[part] ??= {}) as Record<string, unknown>;
    const text = p.severity === "warning" ? `${WARNING_PREFIX}${p.text}` : p.text;
    at.__errors = [...((at.__errors as string[] | undefined) ?? []), text];
  }
  return { errorSchema, general };
}

/** Every message in an error schema and below it (a JSON field shows the problems inside its value). */
export function allMessages(errors: ErrorSchema | undefined): string[] {
  if (!errors) return [];
  const own = (errors.__errors as string[] | undefined) ?? [];
  const below = Object.entries(errors).filter(([k]) => k !== "__errors").flatMap(([, v]) => allMessages(v as ErrorSchema));
  return [...own, ...below];
}
