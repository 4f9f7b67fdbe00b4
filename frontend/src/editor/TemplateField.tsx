import { useMemo, useRef, useState } from "react";
import { applySuggestion, openPlaceholder, type Suggestion } from "../graph-core";

/**
 * A prompt editor: typing `{{` offers the flow's input fields and the results of the
 * steps upstream; ↑/↓ choose, Enter or Tab inserts, Esc closes.
 */
export function TemplateField(props: {
  value: string;
  onChange: (v: string) => void;
  suggestions: Suggestion[];
  rows?: number;
  testId?: string;
  invalid?: boolean;
  placeholder?: string;
}) {
  const ref = useRef<HTMLTextAreaElement>(null);
  const [caret, setCaret] = useState<number | null>(null);
  const [active, setActive] = useState(0);
  const [dismissed, setDismissed] = useState(false);
  const open = caret === null ? null : openPlaceholder(props.value, caret);
  const matches = useMemo(() => {
    if (!open) return [];
    const typed = open.typed.trim().toLowerCase();
    return props.suggestions.filter((s) => s.insert.toLowerCase().includes(typed));
  }, [open, props.suggestions]);
  const showing = !!open && !dismissed && matches.length > 0;

  const insert = (s: Suggestion) => {
    const el = ref.current;
    const at = el?.selectionStart ?? props.value.length;
    const next = applySuggestion(props.value, at, s.insert);
    props.onChange(next.text);
    setDismissed(true);
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(next.caret, next.caret);
      setCaret(next.caret);
    });
  };

  return (
    <div className="template-field">
      <textarea
        ref={ref}
        className={`nodrag nowheel ${props.invalid ? "invalid" : ""}`}
        rows={props.rows ?? 6}
        value={props.value}
        placeholder={props.placeholder}
        data-testid={props.testId}
        spellCheck={false}
        onChange={(e) => {
          props.onChange(e.target.value);
          setCaret(e.target.selectionStart);
          setDismissed(false);
          setActive(0);
        }}
        onSelect={(e) => setCaret((e.target as HTMLTextAreaElement).selectionStart)}
        onBlur={() => setTimeout(() => setCaret(null), 150)}
        onKeyDown={(e) => {
          if (!showing) return;
          if (e.key === "ArrowDown") { e.preventDefault(); setActive((a) => (a + 1) % matches.length); }
          else if (e.key === "ArrowUp") { e.preventDefault(); setActive((a) => (a - 1 + matches.length) % matches.length); }
          else if (e.key === "Enter" || e.key === "Tab") { e.preventDefault(); insert(matches[active] ?? matches[0]); }
          else if (e.key === "Escape") { e.stopPropagation(); setDismissed(true); }
        }}
      />
      {showing && <SuggestionList matches={matches} active={active} onPick={insert} />}
      <InsertChips suggestions={props.suggestions} onPick={insert} />
    </div>
  );
}

/** The open `{{` placeholder's matches: ↑/↓ move the active one. */
function SuggestionList({ matches, active, onPick }: { matches: Suggestion[]; active: number; onPick: (s: Suggestion) => void }) {
  return (
    <ul className="suggestions" role="listbox" data-testid="template-suggestions">
      {matches.map((s, i) => (
        <li key={s.insert} role="option" aria-selected={i === active} className={i === active ? "active" : ""}
          onMouseDown={(e) => { e.preventDefault(); onPick(s); }}>
          <code>{s.insert}</code> <span className="muted small">{s.detail}</span>
        </li>
      ))}
    </ul>
  );
}

/** One-click inserts of the first few things a template may use. */
function InsertChips({ suggestions, onPick }: { suggestions: Suggestion[]; onPick: (s: Suggestion) => void }) {
  if (!suggestions.length) return null;
  return (
    <div className="insert-chips">
      <span className="muted small">Insert:</span>
      {suggestions.slice(0, 8).map((s) => (
        <button key={s.insert} type="button" className="chip chip-btn" title={s.detail} onMouseDown={(e) => { e.preventDefault(); onPick(s); }}>
          {s.insert}
        </button>
      ))}
    </div>
  );
}
