/** API keys: everyone in the workspace sees them and their usage; admins create (the secret shown once) and revoke. */
import { useCallback, useEffect, useState } from "react";
import { ApiError, errorText } from "../api/client";
import { createApiKey, listApiKeys, listEndpoints, revokeApiKey } from "../api/endpoints";
import type { ApiKey, ApiKeyCreated, Role } from "../api/types";
import { money, when } from "../format";
import { CopyButton } from "../ui/CopyButton";
import { Confirm } from "../ui/Modal";
import { toast } from "../ui/toasts";
import { TopBar, type Account } from "../ui/TopBar";
import { keyInput, scopeWords, type KeyFormValues } from "./apiKeyForm";
import "./endpoints.css";

export function ApiKeysPage({ account, role }: { account: Account; role: Role | null }) {
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<ApiKeyCreated | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const isAdmin = role === "admin";
  const reload = useCallback(() => {
    listApiKeys().then((k) => { setKeys(k); setError(null); }, (e) => setError(errorText(e)));
  }, []);
  useEffect(reload, [reload]);
  const revoke = async (key: ApiKey) => {
    try {
      await revokeApiKey(key.id);
      toast.success(`${key.name} is revoked: calls with it now get 401.`);
    } catch (e) { toast.error(errorText(e)); }
    reload();
  };
  return (
    <div className="page">
      <TopBar account={account} />
      <main className="graphs-page api-keys-page" data-testid="api-keys-page">
        <h1>API keys</h1>
        <p className="muted">Programs call published flows with a key: <code>Authorization: Bearer $PATCHBAY_API_KEY</code>.
          {!isAdmin && " Only admins of the workspace create and revoke keys."}</p>
        {isAdmin && !created && <KeyForm onCreated={(k) => { setCreated(k); reload(); }} />}
        {created && <NewSecret created={created} onDone={() => setCreated(null)} />}
        {error && <div className="notice notice-error" role="alert">{error} <button className="btn btn-small" onClick={reload}>Try again</button></div>}
        {!keys && !error && <p className="muted">Loading keys…</p>}
        {keys?.length === 0 && <p className="empty">No keys yet.</p>}
        {!!keys?.length && <KeyTable keys={keys} isAdmin={isAdmin} onRevoke={setRevoking} />}
      </main>
      {revoking && (
        <Confirm title={`Revoke ${revoking.name}?`} danger confirm="Revoke"
          text={`Programs using ${revoking.prefix} get 401 from their next call. Its runs and usage are kept. This cannot be undone: make a new key instead.`}
          onConfirm={() => revoke(revoking)} onClose={() => setRevoking(null)} />
      )}
    </div>
  );
}

function NewSecret({ created, onDone }: { created: ApiKeyCreated; onDone: () => void }) {
  return (
    <section className="key-secret" role="status" data-testid="api-key-created">
      <div className="strong">{created.name}: copy the key now. It is shown this once; Patchbay keeps only its hash.</div>
      <code className="mono" data-testid="api-key-secret">{created.key}</code>
      <div className="row">
        <CopyButton text={created.key} testId="copy-api-key" label="Copy key" small={false} />
        <button className="btn btn-ghost" onClick={onDone} data-testid="api-key-secret-done">I stored it: hide the key</button>
      </div>
    </section>
  );
}

const EMPTY: KeyFormValues = { name: "", scopes: [], rate: "", cap: "" };

function KeyForm({ onCreated }: { onCreated: (key: ApiKeyCreated) => void }) {
  const [values, setValues] = useState<KeyFormValues>(EMPTY);
  const [slugs, setSlugs] = useState<string[]>([]);
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  useEffect(() => { listEndpoints().then((l) => setSlugs(l.map((e) => e.slug)), () => setSlugs([])); }, []);
  const change = (patch: Partial<KeyFormValues>) => setValues((v) => ({ ...v, ...patch }));
  const toggle = (slug: string) => change({ scopes: values.scopes.includes(slug) ? values.scopes.filter((s) => s !== slug) : [...values.scopes, slug] });
  const submit = async () => {
    const checked = keyInput(values);
    if ("problems" in checked) return setProblems(checked.problems);
    setBusy(true);
    try {
      onCreated(await createApiKey(checked.input));
      setValues(EMPTY);
      setProblems({});
    } catch (e) {
      const fields = e instanceof ApiError ? Object.fromEntries(e.problems.map((p) => [p.path.replace(/\[\d+\]$/, ""), p.message])) : {};
      setProblems(fields);
      if (!Object.keys(fields).length) toast.error(errorText(e));
    } finally { setBusy(false); }
  };
  const problem = (field: string) => problems[field] && <span className="field-problem" data-testid={`api-key-problem-${field}`}>{problems[field]}</span>;
  return (
    <form className="key-form" data-testid="api-key-form" onSubmit={(e) => { e.preventDefault(); submit(); }}>
      <div className="grid">
        <label className="field"><span>Name</span>
          <input value={values.name} onChange={(e) => change({ name: e.target.value })} placeholder="e.g. helpdesk app" data-testid="api-key-name" />{problem("name")}</label>
        <label className="field"><span>Calls per minute</span>
          <input value={values.rate} onChange={(e) => change({ rate: e.target.value })} inputMode="numeric" placeholder="default" data-testid="api-key-rate" />{problem("rate_limit_per_minute")}</label>
        <label className="field"><span>Daily cost cap (USD)</span>
          <input value={values.cap} onChange={(e) => change({ cap: e.target.value })} inputMode="decimal" placeholder="no cap" data-testid="api-key-cap" />{problem("daily_max_cost_usd")}</label>
      </div>
      <fieldset className="field"><span className="field-label">May call (none ticked: every endpoint)</span>
        <div className="scopes">
          {slugs.length === 0 && <span className="muted small">No endpoints yet: the key will call every endpoint.</span>}
          {slugs.map((slug) => (
            <label key={slug} className="checkbox"><input type="checkbox" checked={values.scopes.includes(slug)} onChange={() => toggle(slug)} data-testid={`api-key-scope-${slug}`} /> /{slug}</label>
          ))}
        </div>{problem("scopes")}
      </fieldset>
      <div className="row end"><button className="btn btn-primary" type="submit" disabled={busy} data-testid="api-key-create">{busy ? "Creating…" : "Create key"}</button></div>
    </form>
  );
}

function KeyTable({ keys, isAdmin, onRevoke }: { keys: ApiKey[]; isAdmin: boolean; onRevoke: (key: ApiKey) => void }) {
  return (
    <table className="table" data-testid="api-key-list">
      <thead><tr><th>Name</th><th>Key</th><th>May call</th><th>Limits</th><th>Last used</th><th className="num">Calls today</th><th className="num">Cost today</th><th /></tr></thead>
      <tbody>
        {keys.map((k) => (
          <tr key={k.id} className={k.active ? "" : "revoked"} data-testid="api-key-row" data-key-id={k.id}>
            <td className="strong">{k.name}<div className="muted small">by {k.created_by ?? "—"}, {when(k.created_at)}</div></td>
            <td className="mono small" data-testid="api-key-prefix">{k.prefix}</td>
            <td className="small">{scopeWords(k.scopes)}</td>
            <td className="small">{k.rate_limit_per_minute ? `${k.rate_limit_per_minute}/min` : "no rate limit"}<br />{k.daily_max_cost_usd !== null ? `${money(k.daily_max_cost_usd)}/day` : "no cost cap"}</td>
            <td className="small" data-testid="api-key-last-used">{when(k.last_used_at)}</td>
            <td className="num" data-testid="api-key-calls">{k.usage.today.calls}</td>
            <td className="num" data-testid="api-key-cost">{money(k.usage.today.cost_usd)}</td>
            <td className="actions">
              {!k.active ? <span className="pill" data-testid="api-key-revoked">revoked {when(k.revoked_at)}</span>
                : isAdmin && <button className="btn btn-small btn-danger-ghost" onClick={() => onRevoke(k)} data-testid="revoke-api-key">Revoke…</button>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
