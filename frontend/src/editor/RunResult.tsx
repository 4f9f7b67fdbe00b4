/** The Run panel's view of the run being watched: tokens as they stream, then the result (or why there is none). */
import { useMemo } from "react";
import { canvasStepCounts, failureWords, resultView } from "../live/runFigures";
import { FINISHED } from "../live/runState";
import { useGraph } from "../stores/graphStore";
import { useRun } from "../stores/runStore";
import { toast } from "../ui/toasts";

async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // No clipboard permission (an http page, a locked-down browser): the old way still works.
    const area = document.createElement("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  toast.success("Copied the result.");
}

/** What the running steps have streamed so far, newest step last. */
function LiveText() {
  const nodes = useRun((s) => s.nodes);
  const order = useGraph((s) => s.nodes.map((n) => n.id).join("\u0000"));
  const streaming = useMemo(() => order.split("\u0000").filter((id) => nodes[id]?.status === "running" && nodes[id]?.text), [order, nodes]);
  const counts = canvasStepCounts(nodes, order.split("\u0000"));
  return (
    <div className="run-live" data-testid="run-live">
      <h3>Running… <span className="muted small">{counts.succeeded ?? 0} of {order.split("\u0000").length} steps done</span></h3>
      {streaming.map((id) => (
        <div key={id} className="run-live-step">
          <span className="muted small">{id}</span>
          <div className="run-stream" data-testid="run-stream">{nodes[id].text.slice(-600)}</div>
        </div>
      ))}
    </div>
  );
}

export function RunResult() {
  const runId = useRun((s) => s.runId);
  const status = useRun((s) => s.status);
  const output = useRun((s) => s.output);
  const error = useRun((s) => s.error);
  if (!runId || !status) return null;
  if (!FINISHED.includes(status)) return <LiveText />;
  const failure = failureWords(status, error);
  if (failure) return <div className="run-result run-result-failed" data-testid="run-failure">{failure}</div>;
  const view = resultView(output);
  return (
    <section className="run-result" data-testid="run-result" data-kind={view.kind}>
      <div className="row between">
        <h3>Result</h3>
        {view.kind !== "empty" && <button className="btn btn-small" data-testid="run-result-copy" onClick={() => void copyText(view.text)}>Copy</button>}
      </div>
      {view.kind === "empty" ? <p className="muted small">The flow finished without a result.</p>
        : view.kind === "text" ? <div className="result-text" data-testid="run-result-text">{view.text}</div>
        : <pre className="result-json" data-testid="run-result-text">{view.text}</pre>}
    </section>
  );
}
