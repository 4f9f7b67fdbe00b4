import { useMemo, useState } from "react";
import type { NodeTypeInfo } from "../graph-core";
import { useGraph } from "../stores/graphStore";
import { DRAG_MIME } from "./Canvas";
import { patternInfo } from "./patterns";

/** Every node type from the catalogue, grouped by pattern: drag one onto the canvas, or click to add it. */
export function Palette({ onAdd }: { onAdd: (type: string) => void }) {
  const catalogue = useGraph((s) => s.catalogue);
  const [q, setQ] = useState("");
  const groups = useMemo(() => {
    const map = new Map<string, { title: string; blurb: string; color: string; order: number; types: NodeTypeInfo[] }>();
    for (const t of Object.values(catalogue)) {
      const hay = `${t.title} ${t.type} ${t.description} ${t.pattern}`.toLowerCase();
      if (q && !hay.includes(q.toLowerCase())) continue;
      const info = patternInfo(t.pattern);
      const g = map.get(info.title) ?? { ...info, types: [] };
      g.types.push(t);
      map.set(info.title, g);
    }
    return [...map.values()].sort((a, b) => a.order - b.order);
  }, [catalogue, q]);
  return (
    <aside className="palette" data-testid="palette">
      <input className="search" placeholder="Find a step…" value={q} onChange={(e) => setQ(e.target.value)} aria-label="Find a step" />
      {groups.map((g) => (
        <section key={g.title} className="palette-group">
          <h3 style={{ color: g.color }}>{g.title}</h3>
          {g.blurb && <p className="muted small">{g.blurb}</p>}
          {g.types.map((t) => (
            <div
              key={t.type}
              className="palette-item"
              draggable
              data-testid={`palette-${t.type}`}
              style={{ ["--accent" as string]: g.color }}
              onDragStart={(e) => {
                e.dataTransfer.setData(DRAG_MIME, t.type);
                e.dataTransfer.effectAllowed = "copy";
              }}
              onDoubleClick={() => onAdd(t.type)}
              title="Drag onto the canvas (or double-click to add)"
            >
              <div className="row between"><strong>{t.title}</strong><button className="icon-btn small" aria-label={`Add ${t.title}`} onClick={() => onAdd(t.type)}>+</button></div>
              <div className="muted small">{t.description}</div>
            </div>
          ))}
        </section>
      ))}
      {!groups.length && <p className="muted small">No step matches “{q}”.</p>}
    </aside>
  );
}
