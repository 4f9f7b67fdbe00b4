/** The header's "Live: v4" badge with its menu, and the dialogs the Publish button and the menu open. */
import { useCallback, useEffect, useState } from "react";
import { navigate } from "../../router";
import { Confirm } from "../../ui/Modal";
import { useDismiss } from "../../ui/useDismiss";
import { useGraph } from "../../stores/graphStore";
import { canRollBack, useEndpoint } from "./endpointState";
import { liveIndicator } from "./liveVersion";
import { PublishDialog } from "./PublishDialog";
import "./publish.css";

export function LiveBadge() {
  const graphId = useGraph((s) => s.graphId);
  const savedVersion = useGraph((s) => s.savedVersion);
  const endpoint = useEndpoint((s) => s.endpoint);
  const canPublish = useEndpoint((s) => s.canPublish);
  const [open, setOpen] = useState(false);
  const box = useDismiss<HTMLSpanElement>(open, useCallback(() => setOpen(false), []));
  useEffect(() => useEndpoint.getState().load(graphId), [graphId]);
  const indicator = liveIndicator(endpoint, savedVersion);
  if (!indicator || !endpoint) return null;
  const act = (fn: () => void) => () => { setOpen(false); fn(); };
  const ep = useEndpoint.getState();
  return (
    <span className="live-badge-wrap" ref={box}>
      <button className={`live-badge live-${indicator.tone}`} title={indicator.title} onClick={() => setOpen(!open)}
        aria-haspopup="menu" aria-expanded={open} data-testid="live-menu-toggle">
        <span data-testid={indicator.tone === "off" ? "endpoint-off" : "live-version"} data-tone={indicator.tone}>{indicator.text}</span>
        <span aria-hidden="true"> ▾</span>
      </button>
      {open && (
        <div className="menu" role="menu" data-testid="live-menu">
          <button role="menuitem" onClick={act(() => ep.set({ dialog: true }))} data-testid="menu-publish">Publish / call it…</button>
          {indicator.tone !== "off" && <>
            <button role="menuitem" disabled={!canPublish || !canRollBack(endpoint)} onClick={act(() => ep.set({ confirming: "rollback" }))} data-testid="menu-rollback">Roll back…</button>
            <button role="menuitem" disabled={!canPublish} onClick={act(() => ep.set({ confirming: "unpublish" }))} data-testid="menu-unpublish">Unpublish…</button>
          </>}
          <button role="menuitem" onClick={act(() => navigate("/endpoints"))}>Endpoints page</button>
        </div>
      )}
    </span>
  );
}

/** The publish dialog and the rollback / unpublish confirmations, wherever they were asked for. */
export function PublishDialogs() {
  const dialog = useEndpoint((s) => s.dialog);
  const confirming = useEndpoint((s) => s.confirming);
  const endpoint = useEndpoint((s) => s.endpoint);
  const ep = useEndpoint.getState();
  return (
    <>
      {dialog && <PublishDialog />}
      {confirming && endpoint && (
        <Confirm title={confirming === "rollback" ? `Roll back /${endpoint.slug}?` : `Unpublish /${endpoint.slug}?`}
          danger={confirming === "unpublish"} confirm={confirming === "rollback" ? "Roll back" : "Unpublish"}
          text={confirming === "rollback"
            ? `Callers of /${endpoint.slug} run v${endpoint.version} now. They will run the version that was live before it, from their next call.`
            : `Callers of /${endpoint.slug} will get 404 from their next call. The versions, history and runs are kept; publish again at any time.`}
          onConfirm={() => ep.move(confirming)} onClose={() => ep.set({ confirming: null })} />
      )}
    </>
  );
}
