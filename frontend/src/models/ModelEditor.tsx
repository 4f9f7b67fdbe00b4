/** Editing one alias: model, api_base, key (write-only), prices, timeout, retries, ordered fallbacks.
 * The server validates; its problems are shown beside the field they name. */
import { type ReactNode, useState } from "react";
import { saveModelAlias } from "../api/endpoints";
import { ApiError, errorText } from "../api/client";
import type { ModelAliasChange, ModelOverview } from "../api/types";
import { moveFallback, priceValue } from "./words";

interface Props {
  entry: ModelOverview;
  aliases: string[];
  onSaved: () => void;
  onCancel: () => void;
}

const text = (v: number | null) => (v === null ? "" : String(v));

export function ModelEditor({ entry, aliases, onSaved, onCancel }: Props) {
  const [model, setModel] = useState(entry.model);
  const [apiBase, setApiBase] = useState(entry.api_base);
  const [apiKey, setApiKey] = useState("");
  const [inPrice, setInPrice] = useState(text(entry.input_cost_per_mtok));
  const [outPrice, setOutPrice] = useState(text(entry.output_cost_per_mtok));
  const [timeout, setTimeoutS] = useState(String(entry.timeout_s));
  const [retries, setRetries] = useState(String(entry.max_retries));
  const [fallbacks, setFallbacks] = useState(entry.fallbacks);
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [error, setError] = useState("");
  const [saving, setSaving] = useState(false);

  const save = async () => {
    const change: ModelAliasChange = {
      model, api_base: apiBase, fallbacks, timeout_s: Number(timeout), max_retries: Number(retries),
      input_cost_per_mtok: priceValue(inPrice), output_cost_per_mtok: priceValue(outPrice),
      ...(apiKey ? { api_key: apiKey } : {}),
    };
    setSaving(true);
    try {
      await saveModelAlias(entry.alias, change);
      onSaved();
    } catch (e) {
      const byField: Record<string, string> = {};
      if (e instanceof ApiError) for (const p of e.problems) byField[p.path.replace(/\[\d+\]$/, "")] ??= p.message;
      setProblems(byField);
      setError(Object.keys(byField).length ? "Some fields need fixing; nothing was changed." : errorText(e));
    } finally {
      setSaving(false);
    }
  };

  const field = (name: string, label: string, input: ReactNode, hint?: string) => (
    <label className="field" key={name}>
      <span>{label}</span>
      {input}
      {hint && <span className="muted small">{hint}</span>}
      {problems[name] && <span className="field-problem" data-testid={`problem-${name}`}>{problems[name]}</span>}
    </label>
  );
  const others = aliases.filter((a) => a !== entry.alias && !fallbacks.includes(a));
  return (
    <form className="model-editor" data-testid={`model-editor-${entry.alias}`} onSubmit={(e) => { e.preventDefault(); save(); }}>
      <div className="model-editor-grid">
        {field("model", "litellm model", <input value={model} onChange={(e) => setModel(e.target.value)} data-testid="edit-model" />)}
        {field("api_base", "api_base", <input value={apiBase} placeholder="https://… (empty: the provider's own)" onChange={(e) => setApiBase(e.target.value)} data-testid="edit-api-base" />)}
        {field("api_key", "API key", <input type="password" autoComplete="off" value={apiKey} placeholder={entry.has_api_key ? "set: type to replace" : "not set"} onChange={(e) => setApiKey(e.target.value)} />, "Stored encrypted, never shown again.")}
        {field("input_cost_per_mtok", "Input $ / 1M tokens", <input inputMode="decimal" value={inPrice} placeholder="price map" onChange={(e) => setInPrice(e.target.value)} />)}
        {field("output_cost_per_mtok", "Output $ / 1M tokens", <input inputMode="decimal" value={outPrice} placeholder="price map" onChange={(e) => setOutPrice(e.target.value)} />)}
        {field("timeout_s", "Timeout (s)", <input inputMode="decimal" value={timeout} onChange={(e) => setTimeoutS(e.target.value)} data-testid="edit-timeout" />)}
        {field("max_retries", "Retries", <input inputMode="numeric" value={retries} onChange={(e) => setRetries(e.target.value)} />)}
      </div>
      <div className="field">
        <span className="field-label">Fallbacks, in order</span>
        <FallbackList list={fallbacks} others={others} onChange={setFallbacks} />
        {problems.fallbacks && <span className="field-problem" data-testid="problem-fallbacks">{problems.fallbacks}</span>}
      </div>
      {error && <div className="notice notice-error" role="alert">{error}</div>}
      <div className="row">
        <button className="btn btn-primary" type="submit" disabled={saving} data-testid="save-model">{saving ? "Saving…" : "Save"}</button>
        <button className="btn btn-ghost" type="button" onClick={onCancel}>Cancel</button>
      </div>
    </form>
  );
}

function FallbackList({ list, others, onChange }: { list: string[]; others: string[]; onChange: (l: string[]) => void }) {
  return (
    <div className="fallback-list">
      {list.length === 0 && <span className="muted small">None: when this model is off or failing, calls fail.</span>}
      {list.map((name, i) => (
        <span key={name} className="chip fallback-chip">
          {i + 1}. {name}
          <button type="button" className="icon-btn" aria-label={`Move ${name} up`} onClick={(e) => { e.preventDefault(); onChange(moveFallback(list, i, -1)); }}>↑</button>
          <button type="button" className="icon-btn" aria-label={`Move ${name} down`} onClick={(e) => { e.preventDefault(); onChange(moveFallback(list, i, 1)); }}>↓</button>
          <button type="button" className="icon-btn" aria-label={`Remove ${name}`} onClick={(e) => { e.preventDefault(); onChange(list.filter((n) => n !== name)); }}>✕</button>
        </span>
      ))}
      {others.length > 0 && (
        <select value="" aria-label="Add a fallback" onChange={(e) => e.target.value && onChange([...list, e.target.value])}>
          <option value="">Add a fallback…</option>
          {others.map((a) => <option key={a} value={a}>{a}</option>)}
        </select>
      )}
    </div>
  );
}
