/** The inputs of a step's form, in the panel's own style: templates, model aliases, text, numbers, choices. */
import { useEffect, useState } from "react";
import type { RegistryWidgetsType, WidgetProps } from "@rjsf/utils";
import type { JsonSchema } from "../../graph-core";
import { ModelPicker } from "../ModelPicker";
import { TemplateField } from "../TemplateField";
import { testIdOf, type FormContext } from "./context";
import { anyError } from "./errors";

function ctxOf(props: WidgetProps): FormContext {
  return props.registry.formContext as FormContext;
}

function invalid(props: WidgetProps): boolean {
  return anyError(props.rawErrors);
}

/** An emptied optional field is removed from the config, not stored as "". */
function emptied(props: WidgetProps, text: string): string | undefined {
  return text === "" && !props.required ? undefined : text;
}

function TemplateWidget(props: WidgetProps) {
  return (
    <TemplateField value={(props.value as string) ?? ""} onChange={(v) => props.onChange(emptied(props, v))}
      suggestions={ctxOf(props).suggestions} testId={testIdOf(props.id)} invalid={invalid(props)}
      rows={(props.options.rows as number | undefined) ?? 3} />
  );
}

function ModelWidget(props: WidgetProps) {
  return <ModelPicker value={props.value as string | undefined} models={ctxOf(props).models}
    onChange={(v) => props.onChange(v || undefined)} invalid={invalid(props)} testId={testIdOf(props.id)} />;
}

function placeholderOf(schema: JsonSchema): string {
  if (schema.default !== undefined) return String(schema.default);
  if (schema.minimum !== undefined || schema.maximum !== undefined) return `${schema.minimum ?? ""}–${schema.maximum ?? ""}`;
  return "";
}

/** Text, or a number typed as text (so "0." can be typed on the way to "0.5"). */
function TextWidget(props: WidgetProps) {
  const schema = props.schema as JsonSchema;
  const numeric = schema.type === "number" || schema.type === "integer";
  const show = (v: unknown) => (v === undefined || v === null ? "" : String(v));
  const [text, setText] = useState(show(props.value));
  useEffect(() => setText((t) => (numeric && Number(t) === props.value && t.trim() !== "" ? t : show(props.value))), [props.value, numeric]);
  const change = (t: string) => {
    setText(t);
    if (!numeric) return props.onChange(emptied(props, t));
    const n = Number(t.trim());
    if (t.trim() === "") props.onChange(undefined);
    else if (Number.isFinite(n)) props.onChange(schema.type === "integer" ? Math.trunc(n) : n);
  };
  return (
    <input id={props.id} className={`nodrag ${invalid(props) ? "invalid" : ""}`} value={text} data-testid={testIdOf(props.id)}
      inputMode={numeric ? "decimal" : undefined} placeholder={placeholderOf(schema)} onChange={(e) => change(e.target.value)} />
  );
}

function SelectWidget(props: WidgetProps) {
  const options = ((props.schema as JsonSchema).enum ?? []) as unknown[];
  return (
    <select id={props.id} className={`nodrag ${invalid(props) ? "invalid" : ""}`} data-testid={testIdOf(props.id)}
      value={props.value === undefined ? "" : JSON.stringify(props.value)}
      onChange={(e) => props.onChange(e.target.value === "" ? undefined : JSON.parse(e.target.value))}>
      <option value="">{props.required ? "Choose…" : "(not set)"}</option>
      {options.map((opt) => <option key={JSON.stringify(opt)} value={JSON.stringify(opt)}>{String(opt)}</option>)}
    </select>
  );
}

function CheckboxWidget(props: WidgetProps) {
  const schema = props.schema as JsonSchema;
  const checked = props.value === undefined ? schema.default === true : props.value === true;
  return (
    <label className="field checkbox">
      <input id={props.id} type="checkbox" className="nodrag" checked={checked} data-testid={testIdOf(props.id)}
        onChange={(e) => props.onChange(e.target.checked)} />
      <span className="field-label">{props.label}</span>
    </label>
  );
}

export const widgets: RegistryWidgetsType = {
  TextWidget, SelectWidget, CheckboxWidget, template: TemplateWidget, model: ModelWidget,
};
