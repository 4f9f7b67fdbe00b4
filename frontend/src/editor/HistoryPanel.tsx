import { useEffect, useState } from "react";
import { errorText } from "../api/client";
import { getVersion, restoreVersion } from "../api/endpoints";
import { useVersions } from "../api/hooks";
import type { GraphDetail, VersionDetail, VersionSummary } from "../api/types";
import { diffSpecs, type FieldChange, type GraphDiff } from "../graph-core";
import { when } from "../format";
import { Confirm } from "../ui/Modal";
import { foldedLabel, foldHistory } from "./historyFolding";
import { toast } from "../ui/toasts";

/** Versions (who, when, message), a diff between any two, and restore-as-new-version. */
export function HistoryPanel({ graphId, bump, dirty, onRestored }: { graphId: number; bump: unknown; dirty: boolean; onRestored: (g: GraphDetail) => void }) {
  const versions = useVersions(graphId, bump);
  const list = versions.data ?? [];
  const [a, setA] = useState<number | null>(null);
  const [b, setB] = useState<number | null>(null);
  const [diff, setDiff] = useState<{ a: VersionDetail; b: VersionDetail; d: GraphDiff } | null>(null);
  const [restoring, setRestoring] = useState<number | null>(null);

  const compareWithPrevious = (number: number) => {
    const i = list.findIndex((v) => v.number === number);
    if (i >= 0 && i < list.length - 1) {
      setA(list[i + 1].number);
      setB(number);
    }
  };

  useEffect(() => {
    if (list.length >= 2 && a === null) {
      setA(list[1].number);
      setB(list[0].number);
    }
  }, [list, a]);

  useEffect(() => {
    if (a === null || b === null || a === b) {
      setDiff(null);
      return;
    }
    let live = true;
    Promise.all([getVersion(graphId, a), getVersion(graphId, b)]).then(
      ([va, vb]) => live && setDiff({ a: va, b: vb, d: diffSpecs(va.spec, vb.spec) }),
      (e) => toast.error(errorText(e)),
    );
    return () => { live = false; };
  }, [graphId, a, b]);

  return (
    <div className="history" data-testid="history-panel">
      <h2>History</h2>
      <p className="muted small">Every save is a version, kept for good. Restoring an old one saves it again as the newest. Versions saved only to run unsaved edits are folded.</p>
      {versions.error ? <div className="notice notice-error">{errorText(versions.error)}</div> : null}
      <ol className="versions">
        {foldHistory(list).map((row) => row.kind === "version"
          ? <VersionRow key={row.version.number} v={row.version} current={row.current} onChanges={() => compareWithPrevious(row.version.number)} onRestore={() => setRestoring(row.version.number)} />
          : <FoldedRuns key={`runs-${row.versions[0].number}`} versions={row.versions} onChanges={compareWithPrevious} onRestore={setRestoring} />)}
      </ol>
      {list.length >= 2 && (
        <div className="compare">
          <h3>Compare</h3>
          <div className="row">
            <select value={a ?? ""} onChange={(e) => setA(Number(e.target.value))} aria-label="Older version">
              {list.map((v) => <option key={v.number} value={v.number}>v{v.number}</option>)}
            </select>
            <span>→</span>
            <select value={b ?? ""} onChange={(e) => setB(Number(e.target.value))} aria-label="Newer version">
              {list.map((v) => <option key={v.number} value={v.number}>v{v.number}</option>)}
            </select>
          </div>
          {diff && <DiffView diff={diff.d} a={diff.a.number} b={diff.b.number} />}
        </div>
      )}
      {restoring !== null && (
        <Confirm title={`Restore version ${restoring}?`} confirm="Restore as a new version"
          text={`Version ${restoring} will be saved again as the newest version; nothing is deleted.${dirty ? " Your unsaved changes on the canvas will be replaced (they stay in the undo history)." : ""}`}
          onClose={() => setRestoring(null)}
          onConfirm={async () => {
            try {
              const g = await restoreVersion(graphId, restoring);
              toast.success(g.created_version ? `Restored: version ${restoring} is now version ${g.latest_version?.number}.` : "That version is already the current one.");
              onRestored(g);
              versions.reload();
            } catch (e) { toast.error(errorText(e)); }
          }} />
      )}
    </div>
  );
}

interface RowActions {
  onChanges: (number: number) => void;
  onRestore: (number: number) => void;
}

/** One version: an explicit save stands out; one made for a run says so. */
function VersionRow({ v, current, onChanges, onRestore }: { v: VersionSummary; current: boolean; onChanges: () => void; onRestore: () => void }) {
  return (
    <li data-testid={`version-${v.number}`} data-reason={v.reason} className={v.reason === "run" ? "version-run" : "version-save"}>
      <div className="row between">
        <strong>v{v.number}{current ? <span className="chip">current</span> : null}{v.reason === "run" ? <span className="chip">made by a run</span> : null}</strong>
        <span className="muted small">{v.author ?? "someone"} · {when(v.created_at)}</span>
      </div>
      <div className="small">{v.message || <span className="muted">(no message)</span>}</div>
      <div className="row">
        {v.number > 1 && <button className="btn btn-small" onClick={onChanges}>Changes</button>}
        {!current && <button className="btn btn-small" data-testid={`restore-${v.number}`} onClick={onRestore}>Restore</button>}
      </div>
    </li>
  );
}

/** Versions made only to run unsaved edits, folded into one line that opens. */
function FoldedRuns({ versions, onChanges, onRestore }: { versions: VersionSummary[] } & RowActions) {
  const [open, setOpen] = useState(false);
  return (
    <li className="version-fold" data-testid="version-fold">
      <button className="link-btn" aria-expanded={open} onClick={() => setOpen(!open)} data-testid="version-fold-toggle">
        {open ? "▾" : "▸"} {foldedLabel(versions.length)} <span className="muted small">(v{versions[versions.length - 1].number}–v{versions[0].number})</span>
      </button>
      {open && (
        <ol className="versions">
          {versions.map((v) => <VersionRow key={v.number} v={v} current={false} onChanges={() => onChanges(v.number)} onRestore={() => onRestore(v.number)} />)}
        </ol>
      )}
    </li>
  );
}

function Value({ v }: { v: unknown }) {
  if (v === undefined) return <span className="muted">(none)</span>;
  return <code>{typeof v === "string" ? v : JSON.stringify(v)}</code>;
}

function Change({ c }: { c: FieldChange }) {
  return (
    <li>
      <span className="mono small">{c.path || "(value)"}</span>
      {c.lines ? (
        <pre className="line-diff">
          {c.lines.map((l, i) => <div key={i} className={`ld-${l.op}`}>{l.op === "add" ? "+ " : l.op === "del" ? "− " : "  "}{l.text}</div>)}
        </pre>
      ) : (
        <div className="small"><Value v={c.before} /> → <Value v={c.after} /></div>
      )}
    </li>
  );
}

export function DiffView({ diff, a, b }: { diff: GraphDiff; a: number; b: number }) {
  if (diff.same) return <p className="muted small">v{a} and v{b} are the same.</p>;
  const moved = diff.changed.filter((c) => c.movedOnly);
  return (
    <div className="diff" data-testid="diff-view">
      {diff.added.map((n) => <div key={n.id} className="diff-add">+ step <b>{n.id}</b> <span className="muted">({n.type})</span> added</div>)}
      {diff.removed.map((n) => <div key={n.id} className="diff-del">− step <b>{n.id}</b> <span className="muted">({n.type})</span> removed</div>)}
      {diff.changed.filter((c) => !c.movedOnly).map((n) => (
        <div key={n.id} className="diff-change">
          ~ step <b>{n.id}</b> changed
          <ul>{n.changes.filter((c) => !c.path.startsWith("position")).map((c) => <Change key={c.path} c={c} />)}</ul>
        </div>
      ))}
      {moved.length > 0 && <div className="muted small">{moved.length} step(s) only moved on the canvas.</div>}
      {diff.edgesAdded.map((e, i) => <div key={`ea${i}`} className="diff-add">+ connection {e.from}{e.port ? ` (${e.port})` : ""} → {e.to}</div>)}
      {diff.edgesRemoved.map((e, i) => <div key={`er${i}`} className="diff-del">− connection {e.from}{e.port ? ` (${e.port})` : ""} → {e.to}</div>)}
      {diff.settings.length > 0 && (
        <div className="diff-change">~ flow settings<ul>{diff.settings.map((c) => <Change key={c.path} c={c} />)}</ul></div>
      )}
    </div>
  );
}
