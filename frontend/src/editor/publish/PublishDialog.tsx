/** Publish the flow: pick a slug and a version, then see the URL and copy-paste calls; roll back or unpublish. */
import { useCallback, useEffect, useState } from "react";
import { ApiError, errorText } from "../../api/client";
import { createEndpoint, listVersions, publishEndpoint } from "../../api/endpoints";
import type { Endpoint, VersionSummary } from "../../api/types";
import { navigate } from "../../router";
import { GateRefused } from "../gate/GateRefused";
import { gateRefusal, type GateRefusal } from "../gate/gateWording";
import { CopyButton } from "../../ui/CopyButton";
import { Modal } from "../../ui/Modal";
import { toast } from "../../ui/toasts";
import { useGraph } from "../../stores/graphStore";
import { canRollBack, useEndpoint } from "./endpointState";
import { slugProblem, suggestSlug } from "./liveVersion";
import { snippetTabs } from "./snippetTabs";

export function PublishDialog() {
  const endpoint = useEndpoint((s) => s.endpoint);
  const close = () => useEndpoint.getState().set({ dialog: false });
  const live = endpoint && endpoint.status !== "draft";
  return (
    <Modal title={endpoint ? `Publish /${endpoint.slug}` : "Publish this flow"} onClose={close} wide testId="publish-dialog">
      <PublishForm endpoint={endpoint} />
      {live && endpoint && <EndpointUse endpoint={endpoint} />}
      {live && endpoint && <EndpointMoves endpoint={endpoint} />}
    </Modal>
  );
}

function useVersions(graphId: number | null): VersionSummary[] {
  const [versions, setVersions] = useState<VersionSummary[]>([]);
  useEffect(() => {
    if (graphId !== null) listVersions(graphId).then(setVersions, (e) => toast.error(errorText(e)));
  }, [graphId]);
  return versions;
}

/** Send the publish; a refusing eval gate is kept apart from the field problems so the dialog can explain it. */
function usePublish(endpoint: Endpoint | null, graphId: number | null, slug: string) {
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [refusal, setRefusal] = useState<GateRefusal | null>(null);
  const [busy, setBusy] = useState(false);
  const clear = useCallback((p: Record<string, string>) => { setProblems(p); setRefusal(null); }, []);
  const send = async (version: number, overrideReason?: string) => {
    if (graphId === null) return;
    setBusy(true);
    clear({});
    try {
      const published = endpoint ? await publishEndpoint(endpoint.slug, version, overrideReason)
        : await createEndpoint(graphId, slug.trim(), version);
      useEndpoint.getState().set({ endpoint: published });
      toast.success(`/${published.slug} is live on v${published.version}.`);
    } catch (e) {
      const gate = gateRefusal(e);
      if (gate) return setRefusal(gate);
      const fields = e instanceof ApiError ? Object.fromEntries(e.problems.map((p) => [p.path, p.message])) : {};
      setProblems(fields);
      if (!Object.keys(fields).length) toast.error(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return { problems, setProblems: clear, busy, refusal, send };
}

function PublishForm({ endpoint }: { endpoint: Endpoint | null }) {
  const graphId = useGraph((s) => s.graphId);
  const name = useGraph((s) => s.meta.name);
  const savedVersion = useGraph((s) => s.savedVersion);
  const canPublish = useEndpoint((s) => s.canPublish);
  const versions = useVersions(graphId);
  const [slug, setSlug] = useState(() => endpoint?.slug ?? suggestSlug(name));
  const [version, setVersion] = useState<number | null>(savedVersion);
  const { problems, setProblems, busy, refusal, send } = usePublish(endpoint, graphId, slug);
  useEffect(() => setProblems({}), [version, setProblems]); // a refusal is about one version: picking another clears it

  const submit = () => {
    if (version === null) return;
    const badSlug = endpoint ? null : slugProblem(slug.trim());
    if (badSlug) return setProblems({ slug: badSlug });
    send(version);
  };
  const isLiveVersion = endpoint?.status === "live" && endpoint.version === version;
  return (
    <form className="publish-form" onSubmit={(e) => { e.preventDefault(); submit(); }}>
      <label className="field">
        <span>Address</span>
        <div className="row">
          <span className="muted mono">/api/v1/flows/</span>
          <input value={slug} onChange={(e) => setSlug(e.target.value)} readOnly={!!endpoint} aria-invalid={!!problems.slug}
            title={endpoint ? "An endpoint keeps its address: callers use it" : "Lowercase letters, digits and hyphens"} data-testid="publish-slug" />
          <span className="muted mono">/run</span>
        </div>
        {problems.slug && <span className="field-problem" data-testid="publish-slug-problem">{problems.slug}</span>}
      </label>
      <label className="field">
        <span>Version</span>
        <select value={version ?? ""} onChange={(e) => setVersion(Number(e.target.value))} data-testid="publish-version">
          {versions.map((v) => (
            <option key={v.number} value={v.number}>
              v{v.number}{v.number === savedVersion ? " (open in the editor)" : ""}{endpoint?.status === "live" && endpoint.version === v.number ? " · live" : ""}{v.message ? ` — ${v.message}` : ""}
            </option>
          ))}
        </select>
        {problems.version && <span className="field-problem" data-testid="publish-version-problem">{problems.version}</span>}
      </label>
      {refusal && version !== null && <GateRefused refusal={refusal} canOverride={canPublish} busy={busy}
        action={`Publish v${version} anyway`} onOverride={(reason) => send(version, reason)} />}
      <div className="row end">
        {!canPublish && <span className="muted small">Only admins of the workspace publish.</span>}
        <button className="btn btn-primary" type="submit" disabled={busy || !canPublish || version === null || isLiveVersion}
          title={isLiveVersion ? `v${version} is live already` : undefined} data-testid="publish-submit">
          {busy ? "Publishing…" : isLiveVersion ? `v${version} is live` : `Publish v${version ?? "?"}`}
        </button>
      </div>
    </form>
  );
}

function EndpointUse({ endpoint }: { endpoint: Endpoint }) {
  const tabs = snippetTabs(endpoint.snippets);
  const [active, setActive] = useState(tabs[0]?.key ?? "");
  const tab = tabs.find((t) => t.key === active) ?? tabs[0];
  return (
    <section className="endpoint-use" data-testid="endpoint-use">
      <h3>Call it</h3>
      <div className="row">
        <code className="mono grow" data-testid="publish-url">{endpoint.urls.run}</code>
        <CopyButton text={endpoint.urls.run} testId="copy-url" />
      </div>
      <p className="muted small">
        Calls need an API key in <code>$PATCHBAY_API_KEY</code>.{" "}
        <a className="link" href="/api-keys" data-testid="create-api-key-link"
          onClick={(e) => { e.preventDefault(); useEndpoint.getState().set({ dialog: false }); navigate("/api-keys"); }}>Create an API key</a>
      </p>
      <div className="snippet-tabs" role="tablist">
        {tabs.map((t) => (
          <button key={t.key} type="button" role="tab" aria-selected={t.key === tab?.key} className={t.key === tab?.key ? "active" : ""}
            onClick={() => setActive(t.key)} data-testid={`snippet-tab-${t.key}`}>{t.label}</button>
        ))}
      </div>
      {tab && (
        <div className="snippet">
          <pre className="mono" data-testid="snippet-code" data-snippet={tab.key}>{tab.code}</pre>
          <CopyButton text={tab.code} testId="copy-snippet" />
        </div>
      )}
    </section>
  );
}

function EndpointMoves({ endpoint }: { endpoint: Endpoint }) {
  const canPublish = useEndpoint((s) => s.canPublish);
  const ask = (move: "rollback" | "unpublish") => useEndpoint.getState().set({ confirming: move });
  if (endpoint.status !== "live") return <p className="muted small" data-testid="endpoint-off-note">Unpublished: callers get 404 until you publish a version again.</p>;
  return (
    <div className="row end endpoint-moves">
      <button className="btn" disabled={!canPublish || !canRollBack(endpoint)} onClick={() => ask("rollback")}
        title={canRollBack(endpoint) ? "Go back to the version live before this one" : "No earlier published version"} data-testid="publish-rollback">Roll back…</button>
      <button className="btn btn-danger-ghost" disabled={!canPublish} onClick={() => ask("unpublish")} data-testid="publish-unpublish">Unpublish…</button>
    </div>
  );
}
