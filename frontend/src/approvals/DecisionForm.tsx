/** Decide one approval step: read (and maybe edit) the draft, answer its questions, approve or reject. */
import { useState } from "react";
import type { Approval, Decision } from "../api/approvals";
import { ApiError, errorText } from "../api/client";
import { draftToText, textToDraft } from "./draftText";

interface Props {
  approval: Approval;
  onDecide: (decision: Decision) => Promise<unknown>;
  /** After the decision was recorded, with what was decided (the page can say it back in words). */
  onDone?: (action: "approve" | "reject") => void;
}

const DEADLINE_WORDS: Record<string, string> = { approve: "approved", reject: "rejected", fail: "stopped as failed" };

function problemFor(error: unknown, path: string): string | null {
  if (!(error instanceof ApiError)) return null;
  return error.problems.find((p) => p.path === path)?.message ?? null;
}

export function DecisionForm({ approval, onDecide, onDone }: Props) {
  const [text, setText] = useState(draftToText(approval.draft));
  const [answers, setAnswers] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const edited = text !== draftToText(approval.draft);

  const submit = async (action: "approve" | "reject") => {
    const draft = textToDraft(approval.draft, text);
    if (action === "approve" && !draft.ok) {
      setError(new ApiError(400, "invalid", "The edited draft is not valid JSON.", [{ path: "output", message: "not valid JSON" }]));
      return;
    }
    setBusy(true);
    try {
      await onDecide({ action, fields: answers, output: action === "approve" && edited && draft.ok ? draft.value : undefined });
      setError(null);
      onDone?.(action);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  // Typing in the box a refusal named clears that refusal: a stale "a reason is required" under a reason
  // someone has just written reads as if it were still wrong.
  const answer = (name: string, value: string) => {
    setAnswers((a) => ({ ...a, [name]: value }));
    if (problemFor(error, `fields.${name}`)) setError(null);
  };
  const reasonProblem = problemFor(error, "fields.reason");
  return (
    <div className="decision-form" data-testid="decision-form">
      <p className="decision-title" data-testid="decision-title">{approval.title}</p>
      <label className="field">
        <span>{approval.allow_edit ? "The draft (you may edit it before approving)" : "The draft"}</span>
        <textarea rows={Math.min(14, Math.max(4, text.split("\n").length + 1))} value={text} readOnly={!approval.allow_edit}
          onChange={(e) => setText(e.target.value)} data-testid="decision-draft" />
      </label>
      {approval.questions.map((q) => (
        <label className="field" key={q.name}>
          <span>{q.label || q.name}{q.required !== false ? " (required)" : ""}</span>
          <input value={answers[q.name] ?? ""} onChange={(e) => answer(q.name, e.target.value)} data-testid={`decision-field-${q.name}`} />
          {problemFor(error, `fields.${q.name}`) && <span className="field-error">{problemFor(error, `fields.${q.name}`)}</span>}
        </label>
      ))}
      <label className="field">
        <span>Reason{approval.require_reason_on_reject ? " (needed to reject)" : " (optional)"}</span>
        <input value={answers.reason ?? ""} onChange={(e) => answer("reason", e.target.value)} data-testid="decision-reason" />
        {reasonProblem && <span className="field-error">{reasonProblem}</span>}
      </label>
      <p className="muted small">If nobody decides by {new Date(approval.deadline_at).toLocaleString()}, it will be {DEADLINE_WORDS[approval.on_deadline] ?? approval.on_deadline} automatically.</p>
      {error && !reasonProblem ? <div className="notice notice-error" role="alert">{errorText(error)}</div> : null}
      <div className="row">
        <button className="btn btn-primary" disabled={busy} onClick={() => submit("approve")} data-testid="decision-approve">
          {edited ? "Approve with my edits" : "Approve"}
        </button>
        <button className="btn btn-danger" disabled={busy} onClick={() => submit("reject")} data-testid="decision-reject">Reject</button>
      </div>
    </div>
  );
}
