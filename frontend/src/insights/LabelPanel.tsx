/** In a run's trace, on a step: a person says what was right (the route a router should have taken, pass or
 * fail, a comment). Labels feed the router confusion matrix on the Insights page. Viewers read; the server
 * refuses their changes and the panel says why. */
import { useEffect, useState } from "react";
import { errorText } from "../api/client";
import { getSession } from "../api/endpoints";
import type { SpanRecord } from "../api/types";
import { useGraph } from "../stores/graphStore";
import { toast } from "../ui/toasts";
import { listLabels, setLabel, type RunLabel } from "./api";
import "./labels.css";
import { routeChoices } from "./numbers";

type Verdict = RunLabel["verdict"];

function useStepLabel(runId: string, nodeId: string) {
  const [label, setSaved] = useState<RunLabel | null>(null);
  useEffect(() => {
    let live = true;
    listLabels(runId).then((all) => live && setSaved(all.find((l) => l.node_id === nodeId) ?? null), () => undefined);
    return () => { live = false; };
  }, [runId, nodeId]);
  return [label, setSaved] as const;
}

/** Whether the signed-in person may label (editors and admins); viewers read. Asked once per page. */
let mayLabel: Promise<boolean> | null = null;
function useMayLabel(): boolean {
  const [may, setMay] = useState(true);
  useEffect(() => {
    mayLabel ??= getSession().then((s) => s.workspace?.role !== "viewer", () => true);
    let live = true;
    mayLabel.then((m) => live && setMay(m));
    return () => { live = false; };
  }, []);
  return may;
}

function ReadOnlyLabel({ label }: { label: RunLabel | null }) {
  if (!label) return <p className="muted small">Nobody has labelled this step yet (viewers read labels; editors write them).</p>;
  const verdict = label.verdict === "pass" ? "right" : label.verdict === "fail" ? "wrong" : "not said";
  return (
    <p className="small" data-testid="label-read-only">
      {label.route ? <>Right route: <b>{label.route}</b>. </> : null}Verdict: {verdict}. {label.comment}
      <span className="muted"> ({label.updated_by ?? "someone"})</span>
    </p>
  );
}

export function LabelPanel({ runId, span }: { runId: string; span: SpanRecord }) {
  const nodeId = span.node_id ?? "";
  const config = useGraph((s) => s.nodes.find((n) => n.id === nodeId)?.data.config);
  const [saved, setSaved] = useStepLabel(runId, nodeId);
  const [route, setRoute] = useState("");
  const [verdict, setVerdict] = useState<Verdict>("");
  const [comment, setComment] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    setRoute(saved?.route ?? ""); setVerdict(saved?.verdict ?? ""); setComment(saved?.comment ?? "");
  }, [saved]);
  const may = useMayLabel();
  const isRouter = span.node_type === "router";
  const chosen = span.attributes?.["patchbay.router.route"];

  const save = async () => {
    setBusy(true);
    try {
      setSaved(await setLabel(runId, { node_id: nodeId, ...(isRouter ? { route } : {}), verdict, comment }));
      toast.success("Label saved.");
    } catch (e) {
      toast.error(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  if (!may) return <div className="label-panel" data-testid="label-panel"><h4>Label</h4><ReadOnlyLabel label={saved} /></div>;
  return (
    <div className="label-panel" data-testid="label-panel">
      <h4>Your label</h4>
      {isRouter && (
        <label className="small">The right route {typeof chosen === "string" ? <span className="muted">(it took '{chosen}')</span> : null}
          <select value={route} onChange={(e) => setRoute(e.target.value)} data-testid="label-route">
            <option value="">— not said —</option>
            {routeChoices(config).map((r) => <option key={r} value={r}>{r}</option>)}
          </select>
        </label>
      )}
      <div className="label-verdict" role="radiogroup" aria-label="Was this step right?">
        {(["pass", "fail", ""] as Verdict[]).map((v) => (
          <label key={v || "none"} className="small">
            <input type="radio" name={`verdict-${nodeId}`} checked={verdict === v} onChange={() => setVerdict(v)} data-testid={`label-verdict-${v || "none"}`} />
            {v === "pass" ? "Right" : v === "fail" ? "Wrong" : "Not said"}
          </label>
        ))}
      </div>
      <label className="small">Comment
        <textarea rows={2} value={comment} onChange={(e) => setComment(e.target.value)} data-testid="label-comment" />
      </label>
      <button className="btn btn-small" disabled={busy} onClick={save} data-testid="label-save">Save label</button>
      {saved && <p className="muted small" data-testid="label-saved">Labelled by {saved.updated_by ?? "someone"}</p>}
    </div>
  );
}
