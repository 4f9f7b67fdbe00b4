/** "Serves: production ▾" on the Endpoints page: which of its graph's release labels an endpoint serves.
 *
 * Switching changes what live callers get from their next call, so the choice is confirmed in words first
 * (which release and version that label points at); nothing moves until "Switch" is pressed. Members who may
 * not manage endpoints see the label as text. */
import { useState } from "react";
import { errorText } from "../api/client";
import { followLabel } from "../api/endpoints";
import type { Endpoint } from "../api/types";
import type { ReleaseLabel } from "../editor/releases/releaseTypes";

export function ServesLabel({ endpoint, labels, canChange, onChanged }: {
  endpoint: Endpoint;
  labels: ReleaseLabel[] | undefined;
  canChange: boolean;
  onChanged: () => void;
}) {
  const [picked, setPicked] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const choices = labels ?? [];
  const target = choices.find((l) => l.name === picked);
  const switchTo = (name: string) => {
    setBusy(true);
    followLabel(endpoint.slug, name).then(
      () => { setPicked(null); setError(null); setBusy(false); onChanged(); },
      (e) => { setError(errorText(e)); setBusy(false); });
  };
  if (!canChange || choices.length < 2) {
    return <span data-testid="endpoint-serves">Serves: <span className="strong">{endpoint.label}</span></span>;
  }
  return (
    <div className="serves-label">
      <label>
        Serves:{" "}
        <select value={picked ?? endpoint.label} disabled={busy} data-testid="endpoint-label-select"
          aria-label={`Which release label /${endpoint.slug} serves`}
          onChange={(ev) => { setError(null); setPicked(ev.target.value === endpoint.label ? null : ev.target.value); }}>
          {choices.map((l) => (
            <option key={l.name} value={l.name}>{l.name} (release {l.release}, v{l.version})</option>
          ))}
        </select>
      </label>
      {target && (
        <div className="serves-confirm" data-testid="endpoint-label-confirm">
          <span>Callers get <span className="strong">{target.name}</span> (release {target.release}, v{target.version}) from their next call.</span>{" "}
          <button className="btn btn-small btn-primary" disabled={busy} onClick={() => switchTo(target.name)}
            data-testid="endpoint-label-switch">{busy ? "Switching…" : "Switch"}</button>{" "}
          <button className="btn btn-small" disabled={busy} onClick={() => setPicked(null)}>Cancel</button>
        </div>
      )}
      {error && <div className="notice notice-error small" role="alert">{error}</div>}
    </div>
  );
}
