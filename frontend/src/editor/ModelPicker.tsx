import type { ModelAlias } from "../api/types";
import { pricePerMillion } from "../format";

/** Model aliases with their price, demo label and kill switch; an unknown alias stays visible so it can be fixed. */
export function ModelPicker(props: { value: string | undefined; models: ModelAlias[]; onChange: (v: string) => void; invalid?: boolean; testId?: string }) {
  const current = props.models.find((m) => m.alias === props.value);
  const known = !!current || !props.value;
  return (
    <div className="model-picker">
      <select className={`nodrag ${props.invalid || !known ? "invalid" : ""}`} value={props.value ?? ""} data-testid={props.testId}
        onChange={(e) => props.onChange(e.target.value)}>
        {!props.value && <option value="">Pick a model…</option>}
        {!known && <option value={props.value}>{props.value} (unknown)</option>}
        {props.models.map((m) => (
          <option key={m.alias} value={m.alias}>
            {m.alias}{m.demo ? " · demo" : ""}{m.enabled ? "" : " · switched off"} — {pricePerMillion(m.input_cost_per_mtok, m.output_cost_per_mtok)}
          </option>
        ))}
      </select>
      {current && (
        <div className="muted small">
          {current.description || current.model}
          {current.demo && <span className="chip chip-demo">demo model: offline, deterministic</span>}
          {!current.enabled && (
            <div className="warn small">
              Switched off: calls go to {current.fallbacks.length ? `the fallback (${current.fallbacks.join(" → ")})` : "no fallback and fail fast"}.
            </div>
          )}
        </div>
      )}
    </div>
  );
}
