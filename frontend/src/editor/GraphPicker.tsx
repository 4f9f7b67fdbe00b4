import { parseGraphRef, pinnedRef, refLabel, type GraphChoice } from "../graph-core";

/**
 * Pick a saved graph by name and one of its versions; stores the pinned form "#<id>@<version>",
 * so renaming the graph or saving another under its name changes nothing here.
 */
export function GraphPicker(props: { value: string | undefined; graphs: GraphChoice[]; self: number | null; workspace: number | null;
  onChange: (v: string | undefined) => void; invalid?: boolean; testId?: string }) {
  const ref = parseGraphRef(props.value);
  const pinned = ref && "graphId" in ref ? ref : null;
  const choices = props.graphs.filter((g) => g.id !== props.self && g.latest !== null
    && (props.workspace === null || g.workspace === props.workspace));
  const current = pinned ? props.graphs.find((g) => g.id === pinned.graphId) : undefined;
  const known = !props.value || !!current;
  const versions = current?.latest ? Array.from({ length: current.latest }, (_, i) => current.latest! - i) : [];
  return (
    <div className="graph-picker">
      <select className={`nodrag ${props.invalid || !known ? "invalid" : ""}`} value={pinned ? String(pinned.graphId) : ""} data-testid={props.testId}
        onChange={(e) => {
          const g = choices.find((c) => String(c.id) === e.target.value);
          props.onChange(g && g.latest ? pinnedRef(g.id, g.latest) : undefined);
        }}>
        <option value="">{props.value && !pinned ? refLabel(props.value, props.graphs) : "Pick a saved graph…"}</option>
        {pinned && !current && <option value={String(pinned.graphId)}>{refLabel(props.value, props.graphs)}</option>}
        {choices.map((g) => <option key={g.id} value={String(g.id)}>{g.name} (latest v{g.latest})</option>)}
      </select>
      {pinned && current && (
        <select className="nodrag" value={String(pinned.version)} data-testid={props.testId && `${props.testId}-version`}
          onChange={(e) => props.onChange(pinnedRef(current.id, Number(e.target.value)))}>
          {versions.map((n) => <option key={n} value={String(n)}>{current.name} · v{n}{n === current.latest ? " (latest)" : ""}</option>)}
        </select>
      )}
      {pinned && current && pinned.version !== current.latest && (
        <span className="muted small">Pinned to v{pinned.version}; v{current.latest} is newer. Pick it to upgrade.</span>
      )}
    </div>
  );
}
