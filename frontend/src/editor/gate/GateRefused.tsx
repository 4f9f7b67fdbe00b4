/**
 * The eval gate's refusal inside a publish or move dialog: why, and for admins "Publish anyway" with a reason.
 * No <form> of its own: the publish dialog's form holds it.
 */
import { useState } from "react";
import { gateReason, type GateRefusal } from "./gateWording";
import "./gate.css";

export function GateRefused({ refusal, canOverride, busy, action, onOverride }: {
  refusal: GateRefusal; canOverride: boolean; busy: boolean; action: string; onOverride: (reason: string) => void;
}) {
  const [reason, setReason] = useState("");
  const ready = reason.trim().length > 0;
  return (
    <div className="gate-refused" role="alert" data-testid="gate-refused">
      <b>The eval gate stopped this.</b>
      <p data-testid="gate-reason">{gateReason(refusal)}</p>
      {canOverride ? (
        <div className="gate-override">
          <label className="field">
            <span>Why go ahead anyway? (required, kept in the audit log)</span>
            <textarea value={reason} maxLength={1000} rows={2} onChange={(e) => setReason(e.target.value)}
              placeholder="e.g. the failing cases are out of date; the support team checked the answers" data-testid="gate-override-reason" />
          </label>
          <div className="row end">
            <button className="btn btn-danger" type="button" disabled={!ready || busy} data-testid="gate-override"
              onClick={() => onOverride(reason.trim())}
              title={ready ? undefined : "Write why first"}>{busy ? "Working…" : action}</button>
          </div>
        </div>
      ) : (
        <p className="muted small" data-testid="gate-admin-needed">An admin of the workspace must decide whether to go ahead anyway.</p>
      )}
    </div>
  );
}
