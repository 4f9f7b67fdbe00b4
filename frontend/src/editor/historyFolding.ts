/** History lists explicit saves; versions made only to run unsaved edits fold between them (pure). */
import type { VersionSummary } from "../api/types";

export type HistoryRow =
  | { kind: "version"; version: VersionSummary; current: boolean }
  | { kind: "runs"; versions: VersionSummary[] };

/**
 * Newest first, as the API lists them. Consecutive run-made versions become one foldable row; the
 * current version always stands on its own, whatever made it.
 */
export function foldHistory(versions: readonly VersionSummary[]): HistoryRow[] {
  const rows: HistoryRow[] = [];
  versions.forEach((version, i) => {
    const last = rows[rows.length - 1];
    if (i === 0 || version.reason !== "run") rows.push({ kind: "version", version, current: i === 0 });
    else if (last?.kind === "runs") last.versions.push(version);
    else rows.push({ kind: "runs", versions: [version] });
  });
  return rows;
}

export function foldedLabel(count: number): string {
  return `${count} version${count === 1 ? "" : "s"} made by runs`;
}
