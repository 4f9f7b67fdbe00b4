/** The problems that block saving, under the canvas; a click on a step's name selects it. */
import { useState } from "react";
import { useEditorUi } from "../stores/editorUi";
import { useGraph } from "../stores/graphStore";

function pick(nodeId: string): void {
  useGraph.getState().select(nodeId);
  useEditorUi.getState().set({ tab: "edit" });
}

export function ProblemsBar() {
  const problems = useGraph((s) => s.problems);
  const [open, setOpen] = useState(false);
  if (!problems.length) return null;
  return (
    <div className={`problems ${open ? "open" : ""}`} data-testid="problems-bar">
      <button className="problems-toggle" onClick={() => setOpen(!open)}>
        ⚠ {problems.length} problem{problems.length > 1 ? "s" : ""} to fix before this flow can be saved {open ? "▾" : "▸"}
      </button>
      {open && (
        <ul>
          {problems.map((p, i) => (
            <li key={i}>
              {p.nodeId ? <button className="link" onClick={() => pick(p.nodeId!)}>{p.nodeId}</button> : null} {p.text}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
