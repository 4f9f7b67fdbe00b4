/** Under the run header while a run waits: which steps need a decision, who may make it, and deciding here. */
import { useEffect, useState } from "react";
import { type Approval, decideApproval, decidersWords, getApproval, makeDecideLink } from "../api/approvals";
import { errorText } from "../api/client";
import { getRun } from "../api/endpoints";
import type { WaitingFor } from "../api/types";
import { DecisionForm } from "../approvals/DecisionForm";

export function WaitingNotice({ runId, lastSeq }: { runId: string; lastSeq: number }) {
  const [waiting, setWaiting] = useState<WaitingFor[]>([]);
  const [open, setOpen] = useState<Approval | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [decided, setDecided] = useState<string | null>(null);
  const [link, setLink] = useState<{ approval: number; url: string } | null>(null);
  // A decider can hand the decision to someone without an account (a manager, a customer's contact): a signed
  // link that works once. Making one replaces the last, so it is made on request, never on sight.
  const shareLink = (id: number) => makeDecideLink(id).then(
    (made) => { setLink({ approval: id, url: window.location.origin + made.path }); setError(null); }, setError);
  useEffect(() => {
    getRun(runId).then((r) => setWaiting(r.waiting_for ?? []), setError);
  }, [runId, lastSeq]);

  // The Decide button opens the form and closes it again: a person who only wanted to read it can put it away.
  const decide = (id: number) => {
    if (open?.id === id) { setOpen(null); return; }
    getApproval(id).then((a) => { setOpen(a); setError(null); }, setError);
  };
  return (
    <div className="run-waiting" data-testid="run-waiting-for">
      {waiting.map((w) => (
        <div className="row" key={w.approval}>
          <span>Step <b>{w.node_id}</b> needs a decision: “{w.title}”. Who may decide: {decidersWords(w.deciders)}.</span>
          <button className={`btn btn-small ${open?.id === w.approval ? "" : "btn-primary"}`} onClick={() => decide(w.approval)}
            aria-expanded={open?.id === w.approval} data-testid={`run-decide-${w.node_id}`}>
            {open?.id === w.approval ? "Close" : "Decide"}
          </button>
          <button className="btn btn-small" onClick={() => shareLink(w.approval)} data-testid={`run-link-${w.node_id}`}>
            Get a link for someone without an account
          </button>
        </div>
      ))}
      {link && (
        <div className="decide-link" data-testid="decide-link">
          <span className="small">Anyone with this link can decide this step once, without signing in. Getting a new link stops this one.</span>
          <div className="row">
            <input readOnly value={link.url} onFocus={(e) => e.target.select()} data-testid="decide-link-url" aria-label="Link to decide this step" />
            <button className="btn btn-small" onClick={() => void navigator.clipboard?.writeText(link.url)}>Copy</button>
          </div>
        </div>
      )}
      {decided && <p className="small" role="status" data-testid="run-decided">{decided}</p>}
      {error ? <div className="notice notice-error" role="alert">{errorText(error)}</div> : null}
      {open && (open.can_decide
        ? <DecisionForm approval={open} onDecide={(d) => decideApproval(open.id, d)} onDone={(action) => {
            setDecided(`${action === "approve" ? "Approved" : "Rejected"} “${open.title}”: the run goes on.`);
            setOpen(null);
          }} />
        : <p className="muted small">You may not decide this step. {decidersWords(open.deciders)} may.</p>)}
    </div>
  );
}
