/** What changes between two releases, in plain words: steps (the History diff), prompt text, models. */
import { useEffect, useState } from "react";
import { errorText } from "../../api/client";
import { getVersion } from "../../api/endpoints";
import { diffSpecs, type GraphDiff } from "../../graph-core";
import { DiffView } from "../HistoryPanel";
import type { ModelChange, PromptChange, ReleaseChanges } from "./releaseTypes";

/** The step-by-step diff of the two releases' graph versions, as History shows it. */
function useStepDiff(graphId: number, from: number | undefined, to: number): GraphDiff | null {
  const [diff, setDiff] = useState<GraphDiff | null>(null);
  useEffect(() => {
    let live = true;
    setDiff(null);
    if (from === undefined || from === to) return;
    Promise.all([getVersion(graphId, from), getVersion(graphId, to)]).then(
      ([a, b]) => live && setDiff(diffSpecs(a.spec, b.spec)), () => live && setDiff(null));
    return () => { live = false; };
  }, [graphId, from, to]);
  return diff;
}

function PromptDiff({ p }: { p: PromptChange }) {
  return (
    <div className="diff-change" data-testid={`release-prompt-${p.ref}`}>
      ~ prompt <b>{p.ref}</b>: {p.before ?? "none"} → {p.after ?? "none"}
      <pre className="line-diff">
        {p.lines.map((l, i) => (
          <div key={i} className={l.op === "+" ? "ld-add" : l.op === "-" ? "ld-del" : "ld-same"}>
            {l.op === "+" ? "+ " : l.op === "-" ? "− " : "  "}{l.text}
          </div>
        ))}
      </pre>
    </div>
  );
}

function ModelLine({ m }: { m: ModelChange }) {
  const model = (m.after ?? m.before)?.model ?? "unknown model";
  if (m.change !== "changed") {
    return <div className={m.change === "added" ? "diff-add" : "diff-del"}>{m.change === "added" ? "+" : "−"} model <b>{m.alias}</b> ({model}) {m.change === "added" ? "now used" : "no longer used"}</div>;
  }
  return (
    <div className="diff-change">~ model <b>{m.alias}</b> settings
      <ul>{m.fields.map((f) => <li key={f.path} className="small">{f.path}: {String(f.before)} → {String(f.after)}</li>)}</ul>
    </div>
  );
}

export function ReleaseChangesView({ graphId, changes }: { graphId: number; changes: ReleaseChanges }) {
  const steps = useStepDiff(graphId, changes.from_release?.version, changes.to_release.version);
  return (
    <div className="release-changes" data-testid="release-changes">
      <ul className="release-summary" data-testid="release-summary">
        {changes.summary.map((line, i) => <li key={i}>{line}</li>)}
      </ul>
      {steps && !steps.same && <><h4>Steps</h4><DiffView diff={steps} a={changes.from_release?.version ?? 0} b={changes.to_release.version} /></>}
      {changes.prompts.length > 0 && <h4>Prompts</h4>}
      {changes.prompts.map((p) => <PromptDiff key={p.ref} p={p} />)}
      {changes.models.length > 0 && <h4>Models</h4>}
      {changes.models.map((m) => <ModelLine key={m.alias} m={m} />)}
    </div>
  );
}

export function ErrorNote({ error }: { error: unknown }) {
  return error ? <div className="notice notice-error">{errorText(error)}</div> : null;
}
