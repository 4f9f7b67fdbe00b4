/** The Models page: every alias with its settings, health, circuit breaker and kill switch.
 * Everyone signed in reads it; only staff (the registry is shared by every workspace) change it, and the
 * server refuses anyone else. Refreshed every few seconds so a tripping breaker shows without a reload. */
import { useEffect, useState } from "react";
import { errorText } from "../api/client";
import { listModelHealth, saveModelAlias } from "../api/endpoints";
import type { ModelOverview } from "../api/types";
import { ModelCard } from "../models/ModelCard";
import { toast } from "../ui/toasts";
import type { Account } from "../ui/TopBar";
import { TopBar } from "../ui/TopBar";

const REFRESH_MS = 5000;

export function ModelsPage({ account, isStaff }: { account: Account; isStaff: boolean }) {
  const [entries, setEntries] = useState<ModelOverview[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [nowS, setNowS] = useState(Date.now() / 1000);

  const load = () => listModelHealth().then((list) => { setEntries(list); setError(null); }, setError);

  useEffect(() => {
    load();
    const refresh = setInterval(load, REFRESH_MS);
    const tick = setInterval(() => setNowS(Date.now() / 1000), 1000);
    return () => { clearInterval(refresh); clearInterval(tick); };
  }, []);

  const toggle = async (entry: ModelOverview, enabled: boolean) => {
    try {
      // The model goes along so that switching a built-in alias creates its row.
      await saveModelAlias(entry.alias, { enabled, model: entry.model });
      toast.success(enabled ? `${entry.alias} is on again.` : `${entry.alias} is switched off: the next call goes to its fallbacks.`);
    } catch (e) {
      toast.error(errorText(e));
    }
    load();
  };

  const aliases = (entries ?? []).map((e) => e.alias);
  return (
    <div className="page">
      <TopBar account={account} />
      <main className="graphs-page" data-testid="models-page">
        <h1>Models</h1>
        <p className="muted small">
          Each alias your flows name, where it calls, and how it has done over the last 24 hours. Switching one off, or its
          circuit breaker opening after repeated failures, sends the next call to its fallbacks.
          {isStaff ? "" : " Only an admin can change them."}
        </p>
        {error ? <div className="notice notice-error" role="alert">{errorText(error)} <button className="btn btn-small" onClick={load}>Try again</button></div> : null}
        {entries === null && !error && <p className="muted">Loading…</p>}
        <div className="model-cards">
          {entries?.map((e) => (
            <ModelCard key={e.alias} entry={e} aliases={aliases} canChange={isStaff} nowS={nowS}
              onToggle={(on) => toggle(e, on)} onSaved={() => { toast.success(`${e.alias} saved.`); load(); }} />
          ))}
        </div>
      </main>
    </div>
  );
}
