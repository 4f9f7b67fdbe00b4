/**
 * How each part of a node type's config schema is shown, as an rjsf uiSchema built from the
 * schema itself: no node type has a hand-written form, so a new type gets a working one.
 */
import type { UiSchema } from "@rjsf/utils";
import type { JsonSchema } from "../../graph-core";

/** A conditional of `allOf: [{if: {properties: {kind: {const}}}, then: {required}}]`: which fields it asks for, and when. */
export interface Conditional {
  when: Record<string, unknown>;
  fields: string[];
}

/** Objects whose settings are rarely needed: folded until they hold a value or a problem. */
const FOLDED = new Set(["params", "budget"]);

function typeOf(schema: JsonSchema): string | undefined {
  return Array.isArray(schema.type) ? schema.type[0] : schema.type;
}

function conditionals(schema: JsonSchema): Conditional[] {
  return (schema.allOf ?? []).flatMap((rule) => {
    const fields = rule.then?.required ?? [];
    const when = Object.fromEntries(Object.entries(rule.if?.properties ?? {})
      .filter(([, c]) => (c as JsonSchema).const !== undefined).map(([k, c]) => [k, (c as JsonSchema).const]));
    return fields.length ? [{ when, fields }] : [];
  });
}

/** Is this an untyped value that is a template, or JSON holding templates (a transform's value, a subgraph's input)? */
function isTemplateValue(schema: JsonSchema): boolean {
  return schema.type === undefined && !schema.enum && !schema.properties && schema.const === undefined;
}

/** A saved-graph pin or an inline graph: `{graph}` or `{spec}`. */
function isSubgraphRef(schema: JsonSchema): boolean {
  return !!schema.properties?.graph && schema.properties.graph.format === "graph-ref" && !!schema.properties.spec;
}

/** "Routes" → "route", "Branches" → "branch": what the Add button of a list adds. */
export function singular(title: string): string {
  const word = title.toLowerCase().replace(/_/g, " ");
  return word.replace(/(ch|sh|x|ss)es$/, "$1").replace(/([^s])s$/, "$1");
}

/** The uiSchema for one field of a config schema (the field's name decides only a model alias). */
export function uiSchemaFor(name: string, schema: JsonSchema): UiSchema {
  const t = typeOf(schema);
  if (name === "model" && (t === "string" || t === undefined)) return { "ui:widget": "model" };
  if (isSubgraphRef(schema)) return { "ui:field": "subgraphRef" };
  if (schema.enum) return {};
  if (isTemplateValue(schema)) return { "ui:field": "templateValue" };
  if (t === "string") return schema.format === "template" ? { "ui:widget": "template", "ui:options": { rows: name === "prompt" ? 8 : 3 } } : {};
  if (t === "array") {
    const items = schema.items ?? {};
    if (typeOf(items) === "string") return { "ui:field": "stringList" };
    if (typeOf(items) === "object" && items.properties) return { items: uiSchemaFor("", items), "ui:options": { itemTitle: singular(schema.title ?? name) } };
    return { "ui:field": "json" };
  }
  if (t === "object") {
    if (!schema.properties || !Object.keys(schema.properties).length) return { "ui:field": "json" };
    // A model step that may run a subgraph instead (STEP_SCHEMA): its "Subgraph input" matters only then.
    const companions = schema.properties.subgraph && schema.properties.input && schema.properties.prompt ? { input: "subgraph" } : {};
    const ui: UiSchema = { "ui:options": { conditionals: conditionals(schema), folded: FOLDED.has(name), companions } };
    for (const [prop, sub] of Object.entries(schema.properties)) ui[prop] = uiSchemaFor(prop, sub);
    return ui;
  }
  return {};
}

/**
 * Fields a conditional makes irrelevant for the current value, and fields whose companion is
 * not set (kept when they hold a value, so nothing is lost).
 */
export function hiddenFields(rules: Conditional[], value: Record<string, unknown>, companions: Record<string, string> = {}): Set<string> {
  const conditional = new Set(Object.entries(companions).filter(([, c]) => value[c] === undefined).map(([f]) => f));
  const wanted = new Set<string>();
  for (const rule of rules) {
    rule.fields.forEach((f) => conditional.add(f));
    if (Object.entries(rule.when).every(([k, c]) => value[k] === c)) rule.fields.forEach((f) => wanted.add(f));
  }
  return new Set([...conditional].filter((f) => !wanted.has(f) && value[f] === undefined));
}

/**
 * The schema rjsf is given: conditionals removed (the form hides fields itself, and the
 * server checks them), so rjsf never has to evaluate `if` against a half-filled value.
 */
export function formSchema(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = { ...schema };
  delete out.allOf;
  if (schema.properties) out.properties = Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, formSchema(v)]));
  if (schema.items && !Array.isArray(schema.items)) out.items = formSchema(schema.items);
  return out;
}
