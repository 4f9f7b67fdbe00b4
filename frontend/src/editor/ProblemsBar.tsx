/**
 * Under the canvas: the problems that block saving, and apart from them the warnings (worth a
 * look, but the flow saves and runs). A click on a step's name selects it.
 */
import { useState } from "react";
import type { PinnedProblem } from "../graph-core";
import { useEditorUi } from "../stores/editorUi";
import { useGraph } from "../stores/graphStore";
import { useWarnings } from "./session/warnings";

function pick(nodeId: string): void {
  useGraph.getState().select(nodeId);
  useEditorUi.getState().set({ tab: "edit" });
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n > 1 ? "s" : ""}`;
}

function headline(errors: number, warnings: number): string {
  if (!errors) return `${plural(warnings, "warning")}: the flow saves and runs, but take a look`;
  const also = warnings ? ` (and ${plural(warnings, "warning")})` : "";
  return `${plural(errors, "problem")} to fix before this flow can be saved${also}`;
}

function Item({ p }: { p: PinnedProblem }) {
  const warning = p.severity === "warning";
  return (
    <li className={warning ? "problem-warning" : ""} data-testid={warning ? "problems-warning" : "problems-error"}>
      {warning && <span className="severity">warning</span>}
      {p.nodeId ? <button className="link" onClick={() => pick(p.nodeId!)}>{p.nodeId}</button> : null} {p.text}
    </li>
  );
}

export function ProblemsBar() {
  const problems = useGraph((s) => s.problems);
  const warnings = useWarnings((s) => s.warnings);
  const [open, setOpen] = useState(false);
  if (!problems.length && !warnings.length) return null;
  return (
    <div className={`problems ${open ? "open" : ""} ${problems.length ? "" : "only-warnings"}`} data-testid="problems-bar">
      <button className="problems-toggle" onClick={() => setOpen(!open)}>
        ⚠ {headline(problems.length, warnings.length)} {open ? "▾" : "▸"}
      </button>
      {open && (
        <ul>
          {problems.map((p, i) => <Item key={`e${i}`} p={p} />)}
          {warnings.map((p, i) => <Item key={`w${i}`} p={p} />)}
        </ul>
      )}
    </div>
  );
}
