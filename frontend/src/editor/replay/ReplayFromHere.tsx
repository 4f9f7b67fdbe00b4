import { useState } from "react";
import { errorText } from "../../api/client";
import type { RunRecord, SpanRecord } from "../../api/types";
import { FINISHED } from "../../live/runState";
import { useRun } from "../../stores/runStore";
import { ReplayDiff } from "./ReplayDiff";
import { replayAndCompare, replayBody, type RunComparison } from "./replayApi";

type Phase = { kind: "idle" } | { kind: "running" } | { kind: "done"; replay: RunRecord; diff: RunComparison } | { kind: "failed"; message: string };

/** On a finished run's step: re-run from this step (earlier steps keep their stored outputs), optionally with
 * another prompt or model for it, and read what changed. */
export function ReplayFromHere({ span }: { span: SpanRecord }) {
  const runId = useRun((s) => s.runId);
  const status = useRun((s) => s.status);
  const [open, setOpen] = useState(false);
  const [prompt, setPrompt] = useState("");
  const [model, setModel] = useState("");
  const [phase, setPhase] = useState<Phase>({ kind: "idle" });
  const nodeId = span.node_id;
  if (span.kind !== "node" || !nodeId || nodeId.includes("/") || !runId || !status || !FINISHED.includes(status)) return null;
  const isLlm = span.node_type === "llm";

  const start = async () => {
    setPhase({ kind: "running" });
    try {
      const { replay, diff } = await replayAndCompare(runId, replayBody(nodeId, isLlm ? prompt : "", isLlm ? model : ""));
      setPhase({ kind: "done", replay, diff });
      setOpen(false); // the diff takes the room; "Replay from here" opens the form again
    } catch (error) {
      setPhase({ kind: "failed", message: errorText(error) });
    }
  };
  const openReplay = (replay: RunRecord) => useRun.getState().show(replay, Object.keys(useRun.getState().nodes));

  return (
    <div className="replay" data-testid="replay-from-here">
      {!open && <button className="btn btn-small" onClick={() => setOpen(true)} data-testid="replay-open">Replay from here</button>}
      {open && (
        <div className="replay-form">
          <p className="muted small">Runs '{nodeId}' and the steps after it again; the steps before it keep this run's outputs.</p>
          {isLlm && (
            <>
              <label className="small">Prompt for this replay (empty: unchanged)
                <textarea rows={3} value={prompt} onChange={(e) => setPrompt(e.target.value)} data-testid="replay-prompt" />
              </label>
              <label className="small">Model alias (empty: unchanged)
                <input value={model} onChange={(e) => setModel(e.target.value)} data-testid="replay-model" />
              </label>
            </>
          )}
          <button className="btn btn-primary btn-small" disabled={phase.kind === "running"} onClick={start} data-testid="replay-start">
            {phase.kind === "running" ? "Replaying…" : "Replay"}
          </button>
        </div>
      )}
      {phase.kind === "failed" && <div className="notice notice-error" data-testid="replay-error">{phase.message}</div>}
      {phase.kind === "done" && <ReplayDiff diff={phase.diff} onOpenReplay={() => openReplay(phase.replay)} />}
    </div>
  );
}
