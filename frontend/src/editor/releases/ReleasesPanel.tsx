/** Releases: what each label serves, a diff between any two releases, "Move production here", rollback. */
import { useEffect, useState } from "react";
import { useQuery } from "../../api/hooks";
import { when } from "../../format";
import { useEndpoint } from "../publish/endpointState";
import { ErrorNote, ReleaseChangesView } from "./ReleaseChanges";
import { MoveDialog } from "./MoveDialog";
import { diffReleases, listReleases } from "./releasesApi";
import type { LabelMove, Release, ReleaseChanges } from "./releaseTypes";

const PRODUCTION = "production";

function why(r: Release): string {
  if (r.reason === "prompt_label_moved" && r.cause.prompt) {
    return `prompt ${r.cause.prompt}@${r.cause.label} moved from version ${r.cause.from ?? "none"} to ${r.cause.to}`;
  }
  return { published: "published", created: "made by hand", migrated: "what the endpoint served before releases" }[r.reason] ?? r.reason;
}

function ReleaseRow({ r, onMove, onCompare }: { r: Release; onMove: () => void; onCompare: () => void }) {
  const live = r.labels.includes(PRODUCTION);
  return (
    <li className={`release-row ${live ? "release-live" : ""}`} data-testid={`release-row-${r.number}`}>
      <div className="row">
        <b>Release {r.number}</b>
        <span className="muted small">flow version {r.version}</span>
        {r.labels.map((l) => <span key={l} className={`pill ${l === PRODUCTION ? "pill-succeeded" : ""}`} data-testid={`release-label-${r.number}-${l}`}>{l}</span>)}
      </div>
      <div className="muted small">{why(r)}{r.note && r.reason !== "prompt_label_moved" ? ` — “${r.note}”` : ""} · {r.created_by ?? "system"} · {when(r.created_at)}</div>
      {Object.keys(r.prompts).length > 0 && <div className="small">Prompts: {Object.entries(r.prompts).map(([ref, pin]) => `${ref} = ${pin}`).join(", ")}</div>}
      <div className="row">
        <button className="btn btn-small" onClick={onCompare} data-testid={`release-compare-${r.number}`}>Compare with production</button>
        {!live && <button className="btn btn-small btn-primary" onClick={onMove} data-testid={`release-move-production-${r.number}`}>Move production here</button>}
      </div>
    </li>
  );
}

function Compare({ graphId, releases, pair, setPair }: {
  graphId: number; releases: Release[]; pair: [number, number]; setPair: (p: [number, number]) => void;
}) {
  const [changes, setChanges] = useState<ReleaseChanges | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let live = true; // a quick change of the pair: an earlier, slower answer must not replace the newer one
    setChanges(null);
    setError(null);
    diffReleases(graphId, pair[0], pair[1]).then((c) => live && setChanges(c), (e) => live && setError(e));
    return () => { live = false; };
  }, [graphId, pair]);
  const pick = (i: 0 | 1, v: number) => setPair(i === 0 ? [v, pair[1]] : [pair[0], v]);
  return (
    <div className="compare" data-testid="release-compare">
      <h3>Compare releases</h3>
      <div className="row">
        <select value={pair[0]} onChange={(e) => pick(0, Number(e.target.value))} aria-label="From release" data-testid="release-compare-from">
          {releases.map((r) => <option key={r.number} value={r.number}>release {r.number}</option>)}
        </select>
        <span>→</span>
        <select value={pair[1]} onChange={(e) => pick(1, Number(e.target.value))} aria-label="To release" data-testid="release-compare-to">
          {releases.map((r) => <option key={r.number} value={r.number}>release {r.number}</option>)}
        </select>
      </div>
      <ErrorNote error={error} />
      {changes && <ReleaseChangesView graphId={graphId} changes={changes} />}
    </div>
  );
}

function MovesList({ moves }: { moves: LabelMove[] }) {
  if (!moves.length) return null;
  return (
    <div data-testid="release-moves">
      <h3>Label moves</h3>
      <ol className="versions">
        {moves.map((m, i) => (
          <li key={i} className="small" data-testid="release-move-row">
            <b>{m.label}</b>: {m.from_release ? `release ${m.from_release}` : "nothing"} → release {m.to_release}
            <span className="muted"> · {m.reason.replace(/_/g, " ")} · {m.actor ?? "system"} · {when(m.created_at)}</span>
            {m.note && <div className="muted">“{m.note}”</div>}
          </li>
        ))}
      </ol>
    </div>
  );
}

/** The release production pointed at before its last move: where "Roll back" goes. */
function rollbackTarget(moves: LabelMove[]): number | null {
  return moves.find((m) => m.label === PRODUCTION)?.from_release ?? null;
}

export function ReleasesPanel({ graphId, bump }: { graphId: number; bump: unknown }) {
  const [tick, setTick] = useState(0);
  const data = useQuery(() => listReleases(graphId), [graphId, bump, tick]);
  const [pair, setPair] = useState<[number, number] | null>(null);
  const [moving, setMoving] = useState<number | null>(null);
  const releases = data.data?.releases ?? [];
  const production = data.data?.labels.find((l) => l.name === PRODUCTION)?.release ?? null;
  const back = rollbackTarget(data.data?.moves ?? []);
  return (
    <div className="releases" data-testid="releases-panel">
      <h2>Releases</h2>
      <p className="muted small">A release is a saved version of this flow with the exact prompt versions it runs. Endpoints serve the release <b>production</b> points at; moving production back is the rollback.</p>
      <ErrorNote error={data.error} />
      {data.data && !releases.length && <p className="muted" data-testid="releases-empty">No release yet: publish the flow (Publish, top right) to make the first.</p>}
      {back !== null && back !== production && (
        <button className="btn" onClick={() => setMoving(back)} data-testid="release-rollback">Put production back on release {back} (undo the last move)</button>
      )}
      <ol className="releases-list">
        {releases.map((r) => <ReleaseRow key={r.number} r={r} onMove={() => setMoving(r.number)}
          onCompare={() => setPair([production ?? r.number, r.number])} />)}
      </ol>
      {pair && releases.length > 0 && <Compare graphId={graphId} releases={releases} pair={pair} setPair={setPair} />}
      <MovesList moves={data.data?.moves ?? []} />
      {moving !== null && <MoveDialog graphId={graphId} label={PRODUCTION} release={moving} onClose={() => setMoving(null)} onMoved={() => {
        setTick((t) => t + 1);
        useEndpoint.getState().load(graphId); // the header's live badge shows what the endpoint serves now
      }} />}
    </div>
  );
}
