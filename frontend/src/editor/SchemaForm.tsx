/**
 * A form generated from a node type's config JSON schema: no form is written by hand
 * for any node type, so new types appear with a working form.
 */
import { useEffect, useState, type ReactNode } from "react";
import type { ModelAlias } from "../api/types";
import { fieldKind, type GraphChoice, type Json, type JsonObject, type JsonSchema, type PinnedProblem, type Suggestion } from "../graph-core";
import { GraphPicker } from "./GraphPicker";
import { ModelPicker } from "./ModelPicker";
import { TemplateField } from "./TemplateField";

export interface FormContext {
  models: ModelAlias[];
  /** Saved graphs a subgraph step may call, and the graph being edited (it cannot call itself). */
  graphs?: GraphChoice[];
  graphId?: number | null;
  workspace?: number | null;
  suggestions: Suggestion[];
  problems: PinnedProblem[];
  testPrefix: string;
}

function title(name: string, schema: JsonSchema): string {
  return schema.title ?? name.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

/** Fields that a conditional (allOf if/then on a `const`) makes irrelevant for the current value. */
function hiddenFields(schema: JsonSchema, value: JsonObject): Set<string> {
  const conditional = new Set<string>();
  const wanted = new Set<string>();
  for (const rule of schema.allOf ?? []) {
    const cond = rule.if?.properties ?? {};
    const then = rule.then?.required ?? [];
    then.forEach((f) => conditional.add(f));
    const matches = Object.entries(cond).every(([k, c]) => (c as JsonSchema).const === undefined || value[k] === (c as JsonSchema).const);
    if (matches) then.forEach((f) => wanted.add(f));
  }
  return new Set([...conditional].filter((f) => !wanted.has(f) && value[f] === undefined));
}

export function ObjectFields(props: { schema: JsonSchema; value: JsonObject; onChange: (v: JsonObject) => void; path: string; ctx: FormContext }) {
  const { schema, value, path, ctx } = props;
  const hidden = hiddenFields(schema, value);
  const required = new Set(schema.required ?? []);
  const set = (name: string, v: Json | undefined) => {
    const next = { ...value };
    if (v === undefined) delete next[name];
    else next[name] = v;
    props.onChange(next);
  };
  // Problems that name this object itself (e.g. "'kind' is required" at config.check).
  const own = ctx.problems.filter((p) => p.field === path);
  return (
    <div className="object-fields">
      {own.map((p, i) => <div key={i} className="field-problem" data-testid="field-problem">{p.text}</div>)}
      {Object.entries(schema.properties ?? {}).map(([name, sub]) =>
        hidden.has(name) ? null : (
          <Field key={name} name={name} schema={sub} required={required.has(name)} value={value[name]}
            onChange={(v) => set(name, v)} path={path ? `${path}.${name}` : name} ctx={ctx} />
        ),
      )}
    </div>
  );
}

type FieldProps = { name: string; schema: JsonSchema; required: boolean; value: Json | undefined; onChange: (v: Json | undefined) => void; path: string; ctx: FormContext };

/** The input for a field of this kind (objects and booleans are laid out by Field itself). */
function fieldInput(kind: ReturnType<typeof fieldKind>, props: FieldProps, invalid: boolean, testId: string): ReactNode {
  const { name, schema, value, onChange, ctx } = props;
  switch (kind) {
    case "model":
      return <ModelPicker value={value as string | undefined} models={ctx.models} onChange={(v) => onChange(v || undefined)} invalid={invalid} testId={testId} />;
    case "graph-ref":
      return <GraphPicker value={value as string | undefined} graphs={ctx.graphs ?? []} self={ctx.graphId ?? null} workspace={ctx.workspace ?? null}
        onChange={onChange} invalid={invalid} testId={testId} />;
    case "template":
      return <TemplateField value={(value as string) ?? ""} onChange={(v) => onChange(v === "" && !props.required ? undefined : v)}
        suggestions={ctx.suggestions} testId={testId} invalid={invalid} rows={name === "prompt" ? 8 : 3} />;
    case "text":
      return <input className={`nodrag ${invalid ? "invalid" : ""}`} value={(value as string) ?? ""} data-testid={testId}
        placeholder={schema.default !== undefined ? String(schema.default) : ""}
        onChange={(e) => onChange(e.target.value === "" && !props.required ? undefined : e.target.value)} />;
    case "number":
    case "integer":
      return <NumberInput value={value as number | undefined} integer={kind === "integer"} invalid={invalid} testId={testId}
        placeholder={schema.default !== undefined ? String(schema.default) : [schema.minimum, schema.maximum].some((v) => v !== undefined) ? `${schema.minimum ?? ""}–${schema.maximum ?? ""}` : ""}
        onChange={onChange} />;
    case "enum":
      return (
        <select className={`nodrag ${invalid ? "invalid" : ""}`} value={value === undefined ? "" : JSON.stringify(value)} data-testid={testId}
          onChange={(e) => onChange(e.target.value === "" ? undefined : JSON.parse(e.target.value))}>
          <option value="">{props.required ? "Choose…" : "(not set)"}</option>
          {(schema.enum ?? []).map((opt) => <option key={JSON.stringify(opt)} value={JSON.stringify(opt)}>{String(opt)}</option>)}
        </select>
      );
    case "string-list":
      return <textarea className={`nodrag ${invalid ? "invalid" : ""}`} rows={3} data-testid={testId}
        value={Array.isArray(value) ? (value as string[]).join("\n") : ""} placeholder="one per line"
        onChange={(e) => { const lines = e.target.value.split("\n"); onChange(lines.length === 1 && !lines[0] ? undefined : lines); }} />;
    default:
      return <JsonInput value={value} schema={schema} invalid={invalid} testId={testId} onChange={onChange} suggestions={ctx.suggestions} />;
  }
}

function Field(props: FieldProps) {
  const { name, schema, value, onChange, path, ctx } = props;
  const kind = fieldKind(name, schema);
  const problems = ctx.problems.filter((p) => p.field === path || (p.field.startsWith(`${path}.`) && kind !== "object") || p.field.startsWith(`${path}[`));
  const invalid = problems.length > 0;
  const testId = `${ctx.testPrefix}-${path}`;
  const label = (
    <span className="field-label">
      {title(name, schema)}{props.required && <span className="req" title="required"> *</span>}
    </span>
  );
  const help = schema.description ? <span className="muted small">{schema.description}</span> : null;
  const errors = problems.map((p, i) => <div key={i} className="field-problem" data-testid="field-problem">{p.text}</div>);

  if (kind === "object") {
    return (
      <details className={`field fieldset ${invalid ? "invalid" : ""}`} open={props.required || invalid || value !== undefined}>
        <summary>{label}</summary>
        {help}
        <ObjectFields schema={schema} value={(value as JsonObject) ?? {}} path={path} ctx={ctx}
          onChange={(v) => onChange(Object.keys(v).length ? v : props.required ? v : undefined)} />
      </details>
    );
  }
  if (kind === "boolean") {
    const effective = value === undefined ? schema.default === true : value === true;
    return (
      <label className="field checkbox">
        <input type="checkbox" className="nodrag" checked={effective} data-testid={testId} onChange={(e) => onChange(e.target.checked)} />
        {label}
        {help}
        {errors}
      </label>
    );
  }
  const input = fieldInput(kind, props, invalid, testId);
  return (
    <label className={`field ${invalid ? "invalid" : ""}`} data-field={path}>
      {label}
      {input}
      {help}
      {errors}
    </label>
  );
}

function NumberInput(props: { value: number | undefined; integer: boolean; invalid: boolean; testId: string; placeholder: string; onChange: (v: Json | undefined) => void }) {
  const [text, setText] = useState(props.value === undefined ? "" : String(props.value));
  useEffect(() => setText(props.value === undefined ? "" : String(props.value)), [props.value]);
  return (
    <input className={`nodrag ${props.invalid ? "invalid" : ""}`} inputMode="decimal" value={text} data-testid={props.testId} placeholder={props.placeholder}
      onChange={(e) => {
        setText(e.target.value);
        const t = e.target.value.trim();
        if (t === "") return props.onChange(undefined);
        const n = Number(t);
        if (Number.isFinite(n)) props.onChange(props.integer ? Math.trunc(n) : n);
      }} />
  );
}

/**
 * A value that may be a template or JSON (a transform's value, a JSON schema):
 * text that parses as a JSON object or list is stored as one; anything else as a template string.
 */
function JsonInput(props: { value: Json | undefined; schema: JsonSchema; invalid: boolean; testId: string; onChange: (v: Json | undefined) => void; suggestions: Suggestion[] }) {
  const objectOnly = props.schema.type === "object";
  const show = (v: Json | undefined) => (v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v, null, 2));
  const [text, setText] = useState(show(props.value));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setText((t) => (parse(t).value === props.value || JSON.stringify(parse(t).value) === JSON.stringify(props.value) ? t : show(props.value)));
  }, [props.value]);
  function parse(t: string): { value: Json | undefined; error: string | null } {
    const trimmed = t.trim();
    if (!trimmed) return { value: undefined, error: null };
    if (/^[[{]/.test(trimmed) || objectOnly) {
      try {
        const v = JSON.parse(trimmed) as Json;
        if (objectOnly && (typeof v !== "object" || Array.isArray(v) || v === null)) return { value: undefined, error: "This must be a JSON object: { … }" };
        return { value: v, error: null };
      } catch {
        if (objectOnly) return { value: undefined, error: "This is not valid JSON yet." };
        if (!trimmed.startsWith("{{")) return { value: t, error: "Not valid JSON: it is kept as text." };
      }
    }
    if (/^(true|false|null|-?\d+(\.\d+)?)$/.test(trimmed)) return { value: JSON.parse(trimmed) as Json, error: null };
    return { value: t, error: null };
  }
  return (
    <>
      <textarea className={`nodrag nowheel mono ${props.invalid || error ? "invalid" : ""}`} rows={Math.min(12, Math.max(3, text.split("\n").length))}
        value={text} data-testid={props.testId} spellCheck={false}
        placeholder={objectOnly ? '{"type": "object", "properties": {…}}' : 'A template such as {{ nodes.step.output }}, or JSON such as {"answer": "{{ nodes.step.output }}"}'}
        onChange={(e) => {
          setText(e.target.value);
          const r = parse(e.target.value);
          setError(r.error);
          if (!r.error || !objectOnly) props.onChange(r.value);
        }} />
      {error && <span className="warn small">{error}</span>}
    </>
  );
}
