/** Under the run header while a run waits: which steps need a decision, who may make it, and deciding here. */
import { useEffect, useState } from "react";
import { type Approval, decideApproval, decidersWords, getApproval } from "../api/approvals";
import { errorText } from "../api/client";
import { getRun } from "../api/endpoints";
import type { WaitingFor } from "../api/types";
import { DecisionForm } from "../approvals/DecisionForm";

export function WaitingNotice({ runId, lastSeq }: { runId: string; lastSeq: number }) {
  const [waiting, setWaiting] = useState<WaitingFor[]>([]);
  const [open, setOpen] = useState<Approval | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    getRun(runId).then((r) => setWaiting(r.waiting_for ?? []), setError);
  }, [runId, lastSeq]);

  const decide = (id: number) => getApproval(id).then((a) => { setOpen(a); setError(null); }, setError);
  return (
    <div className="run-waiting" data-testid="run-waiting-for">
      {waiting.map((w) => (
        <div className="row" key={w.approval}>
          <span>Step <b>{w.node_id}</b> needs a decision: “{w.title}”. Who may decide: {decidersWords(w.deciders)}.</span>
          <button className="btn btn-small btn-primary" onClick={() => decide(w.approval)} data-testid={`run-decide-${w.node_id}`}>Decide</button>
        </div>
      ))}
      {error ? <div className="notice notice-error" role="alert">{errorText(error)}</div> : null}
      {open && (open.can_decide
        ? <DecisionForm approval={open} onDecide={(d) => decideApproval(open.id, d)} onDone={() => setOpen(null)} />
        : <p className="muted small">You may not decide this step. {decidersWords(open.deciders)} may.</p>)}
    </div>
  );
}
