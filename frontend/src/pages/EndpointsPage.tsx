/** Every published flow of the workspace: live version, today's calls, errors, latency and cost, and release history. */
import { Fragment, useCallback, useEffect, useState, type ReactNode } from "react";
import { errorText } from "../api/client";
import { listEndpoints } from "../api/endpoints";
import type { Endpoint, EndpointRelease, Role } from "../api/types";
import { listReleases } from "../editor/releases/releasesApi";
import type { ReleaseLabel } from "../editor/releases/releaseTypes";
import { duration, money, when } from "../format";
import { navigate } from "../router";
import { TopBar, type Account } from "../ui/TopBar";
import { ServesLabel } from "./ServesLabel";
import "./endpoints.css";

const ACTION_WORDS: Record<EndpointRelease["action"], string> = { published: "published", rolled_back: "rolled back to", unpublished: "unpublished" };

export function EndpointsPage({ account, role }: { account: Account; role: Role | null }) {
  const [endpoints, setEndpoints] = useState<Endpoint[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(() => {
    listEndpoints().then((list) => { setEndpoints(list); setError(null); }, (e) => setError(errorText(e)));
  }, []);
  useEffect(reload, [reload]);
  return (
    <div className="page">
      <TopBar account={account} />
      <main className="graphs-page endpoints-page" data-testid="endpoints-page">
        <div className="row between">
          <h1>Endpoints</h1>
          <button className="btn" onClick={reload} data-testid="endpoints-reload">Refresh</button>
        </div>
        <p className="muted">Flows published as HTTP endpoints. Numbers are for today (since 00:00 UTC); latency is what callers waited.
          {" "}“Serves” is the flow's release label an endpoint answers from (production unless changed).
          {role !== "admin" && " Publishing, rolling back, unpublishing and changing what an endpoint serves are for admins."}</p>
        {error && <div className="notice notice-error" role="alert">{error} <button className="btn btn-small" onClick={reload}>Try again</button></div>}
        {!endpoints && !error && <p className="muted">Loading endpoints…</p>}
        {endpoints?.length === 0 && <p className="empty" data-testid="endpoints-empty">Nothing is published yet. Open a flow and press Publish.</p>}
        {!!endpoints?.length && <EndpointTable endpoints={endpoints} canChange={role === "admin"} onChanged={reload} />}
      </main>
    </div>
  );
}

/** Each graph's release labels, read once per graph shown (admins only: they are the ones who switch). */
function useGraphLabels(endpoints: Endpoint[], enabled: boolean): Record<number, ReleaseLabel[]> {
  const [labels, setLabels] = useState<Record<number, ReleaseLabel[]>>({});
  const graphs = [...new Set(endpoints.map((e) => e.graph.id))].sort().join(",");
  useEffect(() => {
    if (!enabled || !graphs) return;
    let alive = true;
    for (const id of graphs.split(",").map(Number)) {
      listReleases(id).then((r) => { if (alive) setLabels((all) => ({ ...all, [id]: r.labels })); }, () => undefined);
    }
    return () => { alive = false; };
  }, [graphs, enabled, endpoints]);
  return labels;
}

function EndpointTable({ endpoints, canChange, onChanged }: { endpoints: Endpoint[]; canChange: boolean; onChanged: () => void }) {
  const [open, setOpen] = useState<string | null>(null);
  const labels = useGraphLabels(endpoints, canChange);
  return (
    <table className="table" data-testid="endpoint-list">
      <thead>
        <tr><th>Endpoint</th><th>Status</th><th>Live version</th><th className="num">Calls</th><th className="num">Errors</th>
          <th className="num">p50</th><th className="num">p95</th><th className="num">Cost today</th><th /></tr>
      </thead>
      <tbody>
        {endpoints.map((e) => (
          <Fragment key={e.slug}>
            <EndpointRow endpoint={e} open={open === e.slug} onToggle={() => setOpen(open === e.slug ? null : e.slug)}
              serves={<ServesLabel endpoint={e} labels={labels[e.graph.id]} canChange={canChange} onChanged={onChanged} />} />
            {open === e.slug && <tr className="history-row"><td colSpan={9}><ReleaseHistory releases={e.releases} /></td></tr>}
          </Fragment>
        ))}
      </tbody>
    </table>
  );
}

function EndpointRow({ endpoint: e, open, onToggle, serves }: { endpoint: Endpoint; open: boolean; onToggle: () => void; serves: ReactNode }) {
  const t = e.today;
  const behind = e.status === "live" && e.version !== null && (e.latest_version ?? 0) > e.version;
  return (
    <tr data-testid="endpoint-row" data-slug={e.slug}>
      <td>
        <div className="strong mono">/{e.slug}</div>
        <a className="link small" href={`/graphs/${e.graph.id}`} onClick={(ev) => { ev.preventDefault(); navigate(`/graphs/${e.graph.id}`); }}>{e.graph.name}</a>
        <div className="small">{serves}</div>
      </td>
      <td><span className={`pill pill-endpoint-${e.status}`} data-testid="endpoint-status">{e.status}</span></td>
      <td data-testid="endpoint-version">
        {e.version !== null ? `v${e.version}` : "—"}
        {behind && <div className="warn small">v{e.latest_version} not published</div>}
      </td>
      <td className="num" data-testid="endpoint-calls">{t.calls}{t.running ? <span className="muted small"> ({t.running} running)</span> : null}</td>
      <td className={`num ${t.errors ? "warn" : ""}`} data-testid="endpoint-errors">{t.errors}</td>
      <td className="num" data-testid="endpoint-p50">{duration(t.p50_ms)}</td>
      <td className="num" data-testid="endpoint-p95">{duration(t.p95_ms)}</td>
      <td className="num" data-testid="endpoint-cost">{money(t.cost_usd)}</td>
      <td className="actions">
        <button className="btn btn-small" onClick={onToggle} aria-expanded={open} data-testid="endpoint-history-toggle">
          {open ? "Hide history" : `History (${e.releases.length})`}
        </button>
      </td>
    </tr>
  );
}

function ReleaseHistory({ releases }: { releases: EndpointRelease[] }) {
  if (!releases.length) return <p className="muted small">Never published.</p>;
  return (
    <ol className="release-history" data-testid="release-history">
      {releases.map((r, i) => (
        <li key={i} data-testid="release">
          <span className="strong">{r.actor ?? "someone"}</span> {ACTION_WORDS[r.action]}{" "}
          <span className="mono">v{r.version}</span>
          {r.previous_version !== null && r.action !== "unpublished" && <span className="muted"> (was v{r.previous_version})</span>}
          <span className="muted"> · {when(r.created_at)}</span>
          {r.note && <span className="muted"> · “{r.note}”</span>}
        </li>
      ))}
    </ol>
  );
}
