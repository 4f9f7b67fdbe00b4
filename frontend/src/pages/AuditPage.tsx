/** The audit log: who changed what, when, from what to what. Workspace admins (and staff, for models). */
import { useEffect, useState } from "react";
import type { Account } from "../ui/TopBar";
import { type AuditEntry, listAudit } from "../api/audit";
import { ApiError, errorText } from "../api/client";
import { actionWords, changes, show } from "../audit/diff";
import { when } from "../format";
import { TopBar } from "../ui/TopBar";

interface Props {
  account: Account;
  workspace: { id: number; name: string } | null;
  isStaff: boolean;
}

export function AuditPage({ account, workspace, isStaff }: Props) {
  const [scope, setScope] = useState<"workspace" | "deployment">(workspace ? "workspace" : "deployment");
  const [action, setAction] = useState("");
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [actions, setActions] = useState<string[]>([]);
  const [cursor, setCursor] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const target = scope === "workspace" && workspace ? workspace.id : null;

  const load = async (older: boolean) => {
    setLoading(true);
    try {
      const page = await listAudit(target, { actions: action ? [action] : [], before: older && cursor ? cursor : undefined });
      setEntries((shown) => (older ? [...shown, ...page.results] : page.results));
      setActions(page.actions);
      const last = page.results[page.results.length - 1];
      setCursor(page.next && last ? last.id : null);
      setError(null);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    load(false);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [scope, action]);

  const forbidden = error instanceof ApiError && error.status === 403;
  return (
    <div className="page">
      <TopBar account={account}><span className="muted">{workspace?.name}</span></TopBar>
      <main className="graphs-page" data-testid="audit-page">
        <div className="row between">
          <h1>Audit log</h1>
          <div className="row">
            {isStaff && workspace ? (
              <select aria-label="Which log" value={scope} onChange={(e) => setScope(e.target.value as "workspace" | "deployment")} className="audit-select">
                <option value="workspace">This workspace</option>
                <option value="deployment">Models (whole deployment)</option>
              </select>
            ) : null}
            <select aria-label="Filter by action" data-testid="audit-action-filter" value={action} onChange={(e) => setAction(e.target.value)} className="audit-select">
              <option value="">All actions</option>
              {actions.map((a) => <option key={a} value={a}>{actionWords(a)}</option>)}
            </select>
          </div>
        </div>
        <p className="muted small">Publishes, rollbacks, label moves, API keys, retention, members and model switches: who made each change and what it was before. Entries cannot be edited or deleted.</p>
        {forbidden ? (
          <div className="notice notice-error" role="alert">Only an admin of this workspace can read its audit log.</div>
        ) : error ? (
          <div className="notice notice-error" role="alert">{errorText(error)} <button className="btn btn-small" onClick={() => load(false)}>Try again</button></div>
        ) : null}
        {!error && !loading && entries.length === 0 ? <div className="empty"><h2>Nothing recorded yet</h2><p>Changes that matter to admins appear here as they happen.</p></div> : null}
        {entries.length > 0 && (
          <table className="table audit-table" data-testid="audit-table">
            <thead>
              <tr><th>When</th><th>Who</th><th>Action</th><th>Target</th><th>From → to</th></tr>
            </thead>
            <tbody>
              {entries.map((e) => <AuditRow key={e.id} e={e} />)}
            </tbody>
          </table>
        )}
        {loading ? <p className="muted">Loading…</p> : null}
        {cursor && !loading ? <div className="row end"><button className="btn" onClick={() => load(true)} data-testid="audit-older">Older entries</button></div> : null}
      </main>
    </div>
  );
}

function AuditRow({ e }: { e: AuditEntry }) {
  return (
    <tr data-testid="audit-row">
      <td title={e.at} className="nowrap">{when(e.at)}</td>
      <td>{e.actor.username || <span className="muted">system</span>}</td>
      <td><span className="strong">{actionWords(e.action)}</span><div className="muted small mono">{e.action}</div></td>
      <td>{e.target.name || e.target.id}<div className="muted small">{e.target.type}</div></td>
      <td><Diff entry={e} /></td>
    </tr>
  );
}

function Diff({ entry }: { entry: AuditEntry }) {
  const list = changes(entry.before, entry.after);
  if (list.length === 0) return <span className="muted">no field changed</span>;
  return (
    <ul className="audit-diff">
      {list.map((c) => (
        <li key={c.path}>
          <span className="mono">{c.path || "value"}</span>{": "}
          {c.kind === "added" ? <ins>{show(c.to)}</ins> : c.kind === "removed" ? <del>{show(c.from)}</del> : (
            <><del>{show(c.from)}</del> → <ins>{show(c.to)}</ins></>
          )}
        </li>
      ))}
    </ul>
  );
}
