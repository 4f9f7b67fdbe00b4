/** Import and export of graph files (the same JSON document as everywhere else). */
import type { GraphSpec } from "./graph-core";

export function downloadSpec(spec: GraphSpec): void {
  const blob = new Blob([JSON.stringify(spec, null, 2) + "\n"], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = `${(spec.name || "flow").replace(/[^A-Za-z0-9._-]+/g, "-")}.json`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export class FileProblem extends Error {}

/** Read a picked file as a graph document, or say in words why it is not one. */
export async function readSpecFile(file: File): Promise<GraphSpec> {
  if (file.size > 2 * 1024 * 1024) throw new FileProblem("That file is larger than 2 MB: it is not a flow file.");
  const text = await file.text();
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new FileProblem(`“${file.name}” is not a flow file: it is not valid JSON.`);
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc) || !Array.isArray((doc as GraphSpec).nodes)) {
    throw new FileProblem(`“${file.name}” is not a flow file: it has no list of nodes.`);
  }
  const spec = doc as GraphSpec;
  if (!spec.name) spec.name = file.name.replace(/\.json$/i, "");
  return spec;
}

/** Ask the browser for one file. */
export function pickFile(accept = ".json,application/json"): Promise<File | null> {
  return new Promise((resolve) => {
    const input = document.createElement("input");
    input.type = "file";
    input.accept = accept;
    input.setAttribute("data-testid", "file-picker");
    input.style.display = "none";
    input.onchange = () => {
      resolve(input.files?.[0] ?? null);
      input.remove();
    };
    document.body.appendChild(input);
    input.click();
  });
}

const DRAFT_PREFIX = "patchbay:draft:";

export interface Draft {
  spec: GraphSpec;
  baseVersion: number | null;
  savedAt: number;
  problems?: { path: string; message: string; node_id?: string | null }[];
}

export function saveDraft(key: string | number, draft: Draft): void {
  try {
    localStorage.setItem(DRAFT_PREFIX + key, JSON.stringify(draft));
  } catch {
    /* storage full or disabled: the beforeunload warning still protects the work */
  }
}
export function loadDraft(key: string | number): Draft | null {
  try {
    const raw = localStorage.getItem(DRAFT_PREFIX + key);
    return raw ? (JSON.parse(raw) as Draft) : null;
  } catch {
    return null;
  }
}
export function clearDraft(key: string | number): void {
  try {
    localStorage.removeItem(DRAFT_PREFIX + key);
  } catch {
    /* nothing to do */
  }
}
