/** A signed one-time link's page: someone without an account decides one approval step, once. */
import { useEffect, useState } from "react";
import { type Approval, decideByLink, getLinkedApproval } from "../api/approvals";
import { errorText } from "../api/client";
import { DecisionForm } from "../approvals/DecisionForm";

export function DecidePage({ token }: { token: string }) {
  const [approval, setApproval] = useState<Approval | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<"approve" | "reject" | null>(null);
  useEffect(() => { getLinkedApproval(token).then(setApproval, setError); }, [token]);
  return (
    <div className="center-page">
      <div className="card narrow" data-testid="decide-page">
        <h1>Your decision</h1>
        {done ? <p data-testid="decide-done">Thank you: you {done === "approve" ? "approved" : "rejected"} it, and your
            decision was recorded. The flow goes on without you; this link no longer works.</p>
          : error ? <div className="notice notice-error" role="alert">{errorText(error)}</div>
          : approval ? <DecisionForm approval={approval} onDecide={(d) => decideByLink(token, d)} onDone={setDone} />
          : <p className="muted">Loading…</p>}
      </div>
    </div>
  );
}
