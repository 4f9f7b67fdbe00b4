import { useEffect, useState } from "react";
import type { RunFilters } from "../api/types";
import { STATUS_WORDS } from "../format";
import { SOURCE_WORDS } from "../live/runFigures";

const STATUSES = ["succeeded", "failed", "budget_exceeded", "cancelled", "running", "waiting", "queued"];
const TYPING_PAUSE_MS = 300; // search once the typing stops, not on every key

/** The Runs panel's compact filters: status, source, and text over request ids and errors. */
export function RunFilterRow({ filters, onChange }: { filters: RunFilters; onChange: (f: RunFilters) => void }) {
  const [text, setText] = useState(filters.q ?? "");
  useEffect(() => {
    const wanted = text.trim();
    if (wanted === (filters.q ?? "")) return;
    const timer = setTimeout(() => onChange({ ...filters, q: wanted }), TYPING_PAUSE_MS);
    return () => clearTimeout(timer);
  }, [text, filters, onChange]);
  return (
    <div className="row run-filters" data-testid="run-filters">
      <select value={filters.status ?? ""} onChange={(e) => onChange({ ...filters, status: e.target.value })}
        aria-label="Filter by status" data-testid="run-filter-status">
        <option value="">Any status</option>
        {STATUSES.map((s) => <option key={s} value={s}>{STATUS_WORDS[s]}</option>)}
      </select>
      <select value={filters.source ?? ""} onChange={(e) => onChange({ ...filters, source: e.target.value })}
        aria-label="Filter by source" data-testid="run-filter-source">
        <option value="">Any source</option>
        {Object.entries(SOURCE_WORDS).map(([value, words]) => <option key={value} value={value}>{words}</option>)}
      </select>
      <input className="search grow" type="search" placeholder="Request id or error" value={text} maxLength={500}
        onChange={(e) => setText(e.target.value)} aria-label="Search request id or error" data-testid="run-filter-text" />
    </div>
  );
}

/** Whether any filter narrows the list (the empty list then says so). */
export const filtering = (f: RunFilters): boolean => Boolean(f.status || f.source || f.q);
