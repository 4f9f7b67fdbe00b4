/** One alias on the Models page: where it calls, how it is doing, its breaker and its kill switch. */
import { useState } from "react";
import type { ModelOverview } from "../api/types";
import { pricePerMillion, when } from "../format";
import { ModelEditor } from "./ModelEditor";
import { breakerWords, eventWords, healthFacts, policyWords } from "./words";

interface Props {
  entry: ModelOverview;
  aliases: string[];
  canChange: boolean;
  nowS: number;
  onToggle: (enabled: boolean) => void;
  onSaved: () => void;
}

export function ModelCard({ entry, aliases, canChange, nowS, onToggle, onSaved }: Props) {
  const [editing, setEditing] = useState(false);
  const breaker = breakerWords(entry.breaker_state, entry.breaker, nowS);
  const h = entry.health;
  return (
    <section className={`card model-card ${entry.enabled ? "" : "model-off"}`} data-testid={`model-${entry.alias}`}>
      <div className="row between">
        <h2 className="model-alias">{entry.alias}{entry.demo && <span className="chip chip-demo">demo</span>}</h2>
        <label className="checkbox kill-switch" title={canChange ? "" : "Only an admin can switch models on and off"}>
          <input type="checkbox" role="switch" checked={entry.enabled} disabled={!canChange} data-testid={`kill-switch-${entry.alias}`}
            onChange={(e) => onToggle(e.target.checked)} />
          {entry.enabled ? "On" : "Switched off: calls go to the fallbacks"}
        </label>
      </div>
      <dl className="facts">
        <div><dt>litellm model</dt><dd className="mono">{entry.model}</dd></div>
        <div><dt>api_base</dt><dd className="mono">{entry.api_base || "the provider's own"}</dd></div>
        <div><dt>API key</dt><dd data-testid={`key-${entry.alias}`}>{entry.has_api_key ? "set (never shown)" : "not set"}</dd></div>
        <div><dt>Price</dt><dd>{pricePerMillion(entry.input_cost_per_mtok, entry.output_cost_per_mtok)}</dd></div>
        <div><dt>Timeout · retries</dt><dd>{entry.timeout_s} s · {entry.max_retries}</dd></div>
        <div><dt>Fallbacks</dt><dd>{entry.fallbacks.length ? entry.fallbacks.join(" → ") : "none"}</dd></div>
      </dl>
      <h3 className="model-sub">Health, last 24 h</h3>
      <dl className="facts" data-testid={`health-${entry.alias}`}>
        {healthFacts(h).map(([k, v]) => <div key={k}><dt>{k}</dt><dd>{v}</dd></div>)}
      </dl>
      {h.last_error && <div className="muted small model-last-error">Last error ({when(h.last_error_at)}): <span className="mono">{h.last_error}</span></div>}
      <h3 className="model-sub">Circuit breaker <span className="muted small">{policyWords(entry.breaker)}</span></h3>
      <div className={`breaker breaker-${breaker.tone}`} data-testid={`breaker-${entry.alias}`}>{breaker.label}</div>
      {entry.events.length > 0 && (
        <ul className="model-events" data-testid={`events-${entry.alias}`}>
          {entry.events.map((e) => <li key={e.at + e.kind}><span className="muted small">{when(e.at)}</span> {eventWords(e)}{e.detail ? <span className="muted small"> · {e.detail}</span> : null}</li>)}
        </ul>
      )}
      {canChange && !editing && <button className="btn btn-small" onClick={() => setEditing(true)} data-testid={`edit-${entry.alias}`}>Edit</button>}
      {editing && <ModelEditor entry={entry} aliases={aliases} onCancel={() => setEditing(false)} onSaved={() => { setEditing(false); onSaved(); }} />}
    </section>
  );
}
