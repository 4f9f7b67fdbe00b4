import { useEffect, useMemo, useState } from "react";
import type { Json, JsonObject } from "../graph-core";
import { useGraph } from "../stores/graphStore";
import { BudgetForm, isBudgetProblem } from "./BudgetForm";

type FieldType = "string" | "text" | "number" | "integer" | "boolean";
interface InputField {
  name: string;
  title: string;
  type: FieldType;
  required: boolean;
}

function fieldsOf(inputs: JsonObject | undefined): InputField[] | null {
  if (!inputs) return [];
  const props = inputs.properties;
  if (props === undefined) return [];
  if (!props || typeof props !== "object" || Array.isArray(props)) return null;
  const required = new Set(Array.isArray(inputs.required) ? (inputs.required as string[]) : []);
  const out: InputField[] = [];
  for (const [name, raw] of Object.entries(props)) {
    const s = (raw ?? {}) as JsonObject;
    const t = s.type;
    if (typeof t !== "string" || !["string", "number", "integer", "boolean"].includes(t)) return null; // too rich for the simple editor
    const type: FieldType = t === "string" && (s.format === "textarea" || typeof s.maxLength === "number" && (s.maxLength as number) > 200) ? "text" : (t as FieldType);
    out.push({ name, title: typeof s.title === "string" ? s.title : "", type, required: required.has(name) });
  }
  return out;
}

function schemaOf(fields: InputField[], previous: JsonObject | undefined): JsonObject {
  const props: JsonObject = {};
  const oldProps = (previous?.properties ?? {}) as JsonObject;
  for (const f of fields) {
    const old = (oldProps[f.name] ?? {}) as JsonObject;
    const base: JsonObject = { ...old, type: f.type === "text" ? "string" : f.type };
    if (f.title) base.title = f.title;
    else delete base.title;
    if (f.type === "text" && !base.maxLength) base.maxLength = 20000;
    props[f.name] = base;
  }
  const out: JsonObject = { ...(previous ?? {}), type: "object", properties: props };
  const required = fields.filter((f) => f.required).map((f) => f.name);
  if (required.length) out.required = required;
  else delete out.required;
  return out;
}

/** The run form's fields, edited one row each. */
function InputFieldsEditor({ fields, onChange }: { fields: InputField[]; onChange: (fields: InputField[]) => void }) {
  const patch = (i: number, change: Partial<InputField>) => onChange(fields.map((x, j) => (j === i ? { ...x, ...change } : x)));
  return (
    <div className="input-fields">
      {fields.map((f, i) => (
        <div key={i} className="input-field-row">
          <input className="mono" value={f.name} aria-label="Field name" placeholder="name"
            onChange={(e) => patch(i, { name: e.target.value.replace(/[^A-Za-z0-9_]/g, "_") })} />
          <input value={f.title} aria-label="Field title" placeholder="Title shown in the run form"
            onChange={(e) => patch(i, { title: e.target.value })} />
          <select value={f.type} aria-label="Field type" onChange={(e) => patch(i, { type: e.target.value as FieldType })}>
            <option value="string">Short text</option><option value="text">Long text</option><option value="number">Number</option>
            <option value="integer">Whole number</option><option value="boolean">Yes / no</option>
          </select>
          <label className="checkbox small"><input type="checkbox" checked={f.required} onChange={(e) => patch(i, { required: e.target.checked })} />required</label>
          <button className="icon-btn" aria-label="Remove field" onClick={() => onChange(fields.filter((_, j) => j !== i))}>×</button>
        </div>
      ))}
      <button className="btn btn-small" onClick={() => onChange([...fields, { name: `field_${fields.length + 1}`, title: "", type: "string", required: false }])}>Add a field</button>
    </div>
  );
}

/** The flow's own settings: name, description, the input form, budget. */
export function FlowSettings() {
  const meta = useGraph((s) => s.meta);
  const allProblems = useGraph((s) => s.problems);
  // Budget problems sit beside their box in the budget form; the rest of the flow's are listed here.
  const problems = useMemo(() => allProblems.filter((p) => !p.nodeId && p.edgeIndex === null && !isBudgetProblem(p)), [allProblems]);
  const fields = fieldsOf(meta.inputs as JsonObject | undefined);
  const [raw, setRaw] = useState(JSON.stringify(meta.inputs ?? {}, null, 2));
  const [rawError, setRawError] = useState<string | null>(null);
  const [advanced, setAdvanced] = useState(fields === null);
  useEffect(() => setRaw(JSON.stringify(meta.inputs ?? {}, null, 2)), [meta.inputs]);
  const set = (patch: Record<string, unknown>) => useGraph.getState().setMeta(patch);
  const updateFields = (f: InputField[]) => set({ inputs: schemaOf(f, meta.inputs as JsonObject | undefined) });

  return (
    <div className="inspector" data-testid="flow-settings">
      <h2>Flow settings</h2>
      <p className="muted small">Select a step on the canvas to edit it. These settings belong to the whole flow.</p>
      {problems.map((p, i) => <div key={i} className="field-problem">{p.text}</div>)}
      <label className="field">
        <span className="field-label">Name</span>
        <input value={meta.name ?? ""} data-testid="flow-name" onChange={(e) => set({ name: e.target.value })} maxLength={200} />
      </label>
      <label className="field">
        <span className="field-label">Description</span>
        <textarea rows={3} value={(meta.description as string) ?? ""} onChange={(e) => set({ description: e.target.value || undefined })} />
      </label>
      <h3>Input form</h3>
      <p className="muted small">What a run asks for. Steps read these as <code>{"{{ input.<name> }}"}</code>.</p>
      {!advanced && fields && <InputFieldsEditor fields={fields} onChange={updateFields} />}
      <button className="link small" onClick={() => setAdvanced(!advanced)} disabled={fields === null}>
        {advanced ? "Simple editor" : "Edit as JSON schema"}
      </button>
      {advanced && (
        <>
          <textarea className={`mono ${rawError ? "invalid" : ""}`} rows={10} value={raw} spellCheck={false}
            onChange={(e) => {
              setRaw(e.target.value);
              try {
                const v = JSON.parse(e.target.value) as Json;
                if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error();
                setRawError(null);
                set({ inputs: v as JsonObject });
              } catch {
                setRawError("Not valid JSON yet: the flow keeps the last valid schema.");
              }
            }} />
          {rawError && <span className="warn small">{rawError}</span>}
        </>
      )}
      <BudgetForm />
    </div>
  );
}
