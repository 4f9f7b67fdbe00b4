import { duration, money, pretty } from "../../format";
import type { RunComparison } from "./replayApi";

function signed(value: number | null, show: (v: number) => string): string {
  if (value === null) return "–";
  return `${value > 0 ? "+" : value < 0 ? "−" : "±"}${show(Math.abs(value))}`;
}

/** The replay against its original: totals with their deltas, then each step's output side by side. */
export function ReplayDiff({ diff, onOpenReplay }: { diff: RunComparison; onOpenReplay: () => void }) {
  const { cost_usd: cost, engine_ms: time, llm_calls: calls } = diff.totals;
  return (
    <div className="replay-diff" data-testid="replay-diff">
      <div className="row between">
        <h4>Replay against the original</h4>
        <button className="btn btn-small" onClick={onOpenReplay} data-testid="open-replay">Open the replay's trace</button>
      </div>
      <dl className="facts" data-testid="replay-totals">
        <div><dt>Cost</dt><dd>{money(cost.original)} → {money(cost.replay)} ({signed(cost.delta, money)})</dd></div>
        <div><dt>Time</dt><dd>{duration(time.original)} → {duration(time.replay)} ({signed(time.delta, duration)})</dd></div>
        <div><dt>Model calls</dt><dd>{calls.original} → {calls.replay}</dd></div>
      </dl>
      <table className="replay-table">
        <thead><tr><th>Step</th><th>Original</th><th>Replay</th></tr></thead>
        <tbody>
          {diff.nodes.map((n) => (
            <tr key={n.node_id} className={n.changed ? "changed" : ""} data-testid={`diff-${n.node_id}`} data-changed={n.changed}>
              <th>{n.node_id}{n.replay?.seeded ? <div className="muted small">stored</div> : null}</th>
              <td><pre>{n.original ? pretty(n.original.output) : "–"}</pre></td>
              <td><pre>{n.replay ? pretty(n.replay.output) : "–"}</pre>{n.changed ? <span className="chip">changed</span> : null}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
