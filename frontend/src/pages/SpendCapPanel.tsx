/** The workspace's month of spend against its cap: every member sees it; admins set the cap and the warning. */
import { useCallback, useEffect, useState } from "react";
import { errorText } from "../api/client";
import { getSpend, setSpendCap } from "../api/endpoints";
import type { SpendStatus } from "../api/types";
import { money } from "../format";
import { toast } from "../ui/toasts";

/** "$1.20 of $5.00 (24%)", or the spend alone when there is no cap. */
export function spendWords(s: SpendStatus): string {
  if (s.monthly_cap_usd === null) return `${money(s.spend_this_month)} this month, no cap`;
  const share = s.monthly_cap_usd > 0 ? ` (${Math.round((s.spend_this_month / s.monthly_cap_usd) * 100)}%)` : "";
  return `${money(s.spend_this_month)} of ${money(s.monthly_cap_usd)} this month${share}`;
}

export function SpendCapPanel({ workspace, canManage }: { workspace: number; canManage: boolean }) {
  const [status, setStatus] = useState<SpendStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(() => {
    getSpend(workspace).then((s) => { setStatus(s); setError(null); }, (e) => setError(errorText(e)));
  }, [workspace]);
  useEffect(reload, [reload]);
  if (error) return <div className="notice notice-error" role="alert">{error}</div>;
  if (!status) return null;
  return (
    <section className="spend-cap" data-testid="spend-cap">
      <div className="row between">
        <strong>Monthly spend</strong>
        <span data-testid="spend-words" className={status.warning ? "warn" : ""}>{spendWords(status)}</span>
      </div>
      {status.reached && <p className="warn small" data-testid="spend-reached">The cap is reached: new runs and endpoint calls are refused until the 1st (UTC).</p>}
      {!status.reached && status.warning && <p className="warn small" data-testid="spend-warning">Past {Math.round(status.warn_at_fraction * 100)}% of the cap.</p>}
      {status.refused_this_month ? <p className="muted small" data-testid="spend-refused">{status.refused_this_month} run{status.refused_this_month === 1 ? "" : "s"} refused at the cap this month.</p> : null}
      {canManage && <CapForm workspace={workspace} status={status} onSaved={setStatus} />}
    </section>
  );
}

function CapForm({ workspace, status, onSaved }: { workspace: number; status: SpendStatus; onSaved: (s: SpendStatus) => void }) {
  const [cap, setCap] = useState(status.monthly_cap_usd === null ? "" : String(status.monthly_cap_usd));
  const [warnAt, setWarnAt] = useState(String(Math.round(status.warn_at_fraction * 100)));
  const [problem, setProblem] = useState<string | null>(null);
  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    const capUsd = cap.trim() === "" ? null : Number(cap);
    if (capUsd !== null && !Number.isFinite(capUsd)) return setProblem("The cap is a number of dollars, or empty for none.");
    try {
      const saved = await setSpendCap(workspace, { monthly_cap_usd: capUsd, warn_at_fraction: Number(warnAt) / 100 });
      onSaved(saved);
      setProblem(null);
      toast.success(saved.monthly_cap_usd === null ? "No monthly spend cap." : `Monthly cap set to ${money(saved.monthly_cap_usd)}.`);
    } catch (err) { setProblem(errorText(err)); }
  };
  return (
    <form className="row" onSubmit={save} data-testid="spend-cap-form">
      <label className="small" htmlFor="spend-cap-usd">Cap (USD)</label>
      <input id="spend-cap-usd" inputMode="decimal" placeholder="none" value={cap} onChange={(e) => setCap(e.target.value)} data-testid="spend-cap-input" />
      <label className="small" htmlFor="spend-warn-at">Warn at %</label>
      <input id="spend-warn-at" inputMode="numeric" value={warnAt} onChange={(e) => setWarnAt(e.target.value)} data-testid="spend-warn-input" />
      <button className="btn" data-testid="spend-cap-save">Save</button>
      {problem && <span className="form-error" role="alert" data-testid="spend-cap-problem">{problem}</span>}
    </form>
  );
}
