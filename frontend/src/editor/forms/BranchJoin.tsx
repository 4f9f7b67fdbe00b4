import { useState } from "react";
import { joinedSteps, joinTemplate } from "../../graph-core";

/**
 * "The result of whichever of these ran": tick the branches (e.g. each route's reply) and the
 * value becomes a template that takes the one that ran on this path.
 */
export function BranchJoin(props: { steps: string[]; current: string | undefined; onPick: (template: string) => void }) {
  const [picked, setPicked] = useState<string[]>(() => joinedSteps(props.current ?? "") ?? []);
  const toggle = (id: string) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id]));
  const template = joinTemplate(picked);
  return (
    <details className="branch-join" data-testid="branch-join">
      <summary className="small">The result of whichever of these ran…</summary>
      <p className="muted small">After a router only one branch runs; tick the steps that end each branch.</p>
      <div className="branch-join-steps">
        {props.steps.map((id) => (
          <label key={id} className="checkbox small">
            <input type="checkbox" className="nodrag" checked={picked.includes(id)} data-testid={`branch-join-${id}`}
              onChange={() => toggle(id)} />
            <code>{id}</code>
          </label>
        ))}
      </div>
      <button type="button" className="btn btn-small" disabled={picked.length < 2 || template === props.current}
        data-testid="branch-join-apply" onClick={() => props.onPick(template)}>
        Use {picked.length >= 2 ? `the result of ${picked.join(" or ")}` : "(pick two or more)"}
      </button>
    </details>
  );
}
